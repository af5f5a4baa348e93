// What a limit looks like on disk, shared by the v1 and v2 writers: one
// interface file (or the first of several that exists), the text written,
// and how to tell that the kernel kept it when the file is read back.

/** One file to write for one flag. */
export interface LimitWrite {
  /** the flag it comes from, for errors: `--memory` */
  flag: string;
  /** the controller that must serve it: `memory`, `blkio`, `io` */
  controller: string;
  /** candidate files and the text for each; the first that exists wins */
  files: { file: string; value: string }[];
  /** whether the text read back shows the value was kept */
  matches(read: string, value: string): boolean;
  /** the write removes a limit: a missing controller is no loss */
  unlimited: boolean;
  /** the flag takes `max` (a weight does not) */
  unlimitable: boolean;
  /** skip quietly when no candidate file exists (memsw without swap) */
  optional?: boolean;
}

/** The read-back matches the text written, ignoring the trailing newline. */
export function same(read: string, value: string): boolean {
  return read.trim() === value.trim();
}

/**
 * A byte limit reads back rounded down to a whole page; `max` (v2) or a
 * huge number (v1's "unlimited", PAGE_COUNTER_MAX pages) means none.
 */
export function sameBytes(read: string, value: string): boolean {
  const got = read.trim();
  if (value === 'max' || value === '-1') {
    return (
      got === 'max' ||
      got === '-1' ||
      (/^\d+$/.test(got) && BigInt(got) >= 1n << 62n)
    );
  }
  if (!/^\d+$/.test(got)) return false;
  const want = Number(value);
  const n = Number(got);
  // Pages are 4 KiB here; 64 KiB on some aarch64 kernels.
  return n <= want && want - n < 65536;
}

/** `default N` (v2 io.weight, io.bfq.weight) or a bare number (v1). */
export function sameWeight(read: string, value: string): boolean {
  const first = read.trim().split('\n')[0]?.trim() ?? '';
  return first === value.trim() || first === `default ${value.trim()}`;
}
