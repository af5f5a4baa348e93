// The tutorial's steps, in order. Each step's package exports `runtime`;
// `tincan --step NAME` picks one, and the last one present is the default.

import { BundledModules } from './bundle';
import { UsageError } from './errors';
import type { Runtime } from './layer';

/** A step of the tutorial and the package that holds it. */
export interface StepInfo {
  /** its place in the tutorial, from 1 */
  number: number;
  /** its name, e.g. `namespaces` */
  name: string;
  /** the npm package that exports its runtime */
  packageName: string;
}

/** Every step, first to last. */
export const STEPS: readonly StepInfo[] = [
  { number: 1, name: 'cli', packageName: '@tincan/cli' },
  { number: 2, name: 'namespaces', packageName: '@tincan/namespaces' },
  { number: 3, name: 'mounts', packageName: '@tincan/mounts' },
  { number: 4, name: 'capabilities', packageName: '@tincan/capabilities' },
  { number: 5, name: 'seccomp', packageName: '@tincan/seccomp' },
  { number: 6, name: 'resources', packageName: '@tincan/resources' },
];

/** The step packages the tincan bundle holds, by package name. */
export const bundledRuntimes = new BundledModules();

/** The steps whose packages are installed, first to last. */
export function availableSteps(): StepInfo[] {
  return STEPS.filter((step) => {
    if (bundledRuntimes.has(step.packageName)) return true;
    try {
      require.resolve(step.packageName);
      return true;
    } catch {
      return false;
    }
  });
}

/** Load the runtime of `step` (a name or a number); the last by default. */
export function loadRuntime(step?: string): Runtime {
  const available = availableSteps();
  let info: StepInfo | undefined;
  if (step === undefined) {
    info = available[available.length - 1];
  } else {
    info = available.find(
      (s) => s.name === step.toLowerCase() || String(s.number) === step,
    );
    if (!info) {
      const known = available.map((s) => `${s.number}/${s.name}`).join(', ');
      throw new UsageError(
        `--step ${step}`,
        `unknown step; known steps: ${known}`,
      );
    }
  }
  if (!info) throw new UsageError('--step', 'no step is installed');
  if (info.name === 'cli') {
    return (require('./runtime') as { runtime: Runtime }).runtime;
  }

  return (bundledRuntimes.load(info.packageName) as { runtime: Runtime })
    .runtime;
}
