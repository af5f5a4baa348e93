// Step 2's part of the config, shared by the parent and the init (kept
// apart from layer.ts so the init does not load the command line code).

import { configSection } from '@tincan/cli';
import type { IdMapEntry } from './id-map';
import type { MappingStrategy } from './rootless';

/** Step 2's part of the config. */
export interface NamespacesConfig {
  uidMap: IdMapEntry[];
  gidMap: IdMapEntry[];
  /** the uid and gid the command runs as, inside */
  uid: number;
  gid: number;
  hostname: string;
  /** how the maps are written: as root, one id, or newuidmap */
  mapping: MappingStrategy;
}

/** Step 2's section of the config. */
export const namespacesSection = configSection<NamespacesConfig>('namespaces');
