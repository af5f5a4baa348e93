// The container's hostname, set with sethostname(2) inside its own UTS
// namespace: crabcan-style generated names, or one the user gives.

import { randomBelow, UsageError } from '@tincan/cli';

const ADJECTIVES = [
  'amber',
  'brave',
  'calm',
  'dusty',
  'eager',
  'fuzzy',
  'gentle',
  'hollow',
  'icy',
  'jolly',
  'keen',
  'lucky',
  'mellow',
  'nimble',
  'odd',
  'plucky',
  'quiet',
  'rusty',
  'shiny',
  'tidy',
  'upbeat',
  'vivid',
  'witty',
  'zesty',
];

const NOUNS = [
  'anchor',
  'badger',
  'canyon',
  'dynamo',
  'ember',
  'falcon',
  'glacier',
  'harbor',
  'island',
  'jigsaw',
  'kettle',
  'lantern',
  'magnet',
  'nugget',
  'orchard',
  'pebble',
  'quartz',
  'rocket',
  'sprocket',
  'tincan',
  'urchin',
  'valley',
  'walrus',
  'yonder',
];

/** A fresh name like `plucky-lantern-417`. */
export function generateHostname(): string {
  const adjective = ADJECTIVES[randomBelow(ADJECTIVES.length)] ?? 'calm';
  const noun = NOUNS[randomBelow(NOUNS.length)] ?? 'tincan';
  return `${adjective}-${noun}-${randomBelow(1000)}`;
}

/**
 * Check a hostname: 1 to 64 characters (the kernel's limit), letters,
 * digits, `-` and `.`, not starting with `-`.
 */
export function validateHostname(name: string): string {
  const what = `--hostname ${JSON.stringify(name)}`;
  if (name.length === 0) throw new UsageError(what, 'the name is empty');
  if (name.length > 64) {
    throw new UsageError(what, 'longer than 64 characters');
  }
  if (!/^[A-Za-z0-9.-]+$/.test(name)) {
    throw new UsageError(what, 'only letters, digits, "-" and "." are allowed');
  }
  if (name.startsWith('-')) {
    throw new UsageError(what, 'must not start with "-"');
  }
  return name;
}
