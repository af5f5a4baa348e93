// The conversation between the parent and the init, over a SOCK_SEQPACKET
// socketpair: one message per write, so a JSON document never arrives in
// pieces. The socket is close-on-exec in the init: when the user's command
// starts, the parent reads end of file.

import type { LogRecord } from './log';

/** A message from the init to the parent. *
 * @see [Lesson 1: the conversation over SOCK_SEQPACKET](../../../steps/01-cli/README.md#the-conversation-over-sock_seqpacket)
 */
export type InitMessage =
  | {
      /**
       * log lines of the init, for the parent to print: a phase's lines
       * travel together, each with the time it was written
       */
      type: 'log';
      /** the lines, in order */
      lines: {
        /** the line, with its tag and time */
        record: LogRecord;
        /** how the parent prints it */
        level: 'debug' | 'warn';
      }[];
    }
  | {
      /**
       * the init is up and its parent-death signal is armed: only now does
       * the parent send the config, so an init whose tincan died before it
       * could arm the signal reads end of file, not a config, and exits
       */
      type: 'ready';
    }
  | {
      /** the init failed and is about to exit */
      type: 'error';
      /** the phase and layer, e.g. `filesystem/mounts` */
      stage: string;
      /** the error, read like the failed call */
      message: string;
      /** the exit code tincan leaves with */
      exitCode: number;
    }
  | {
      /** the init is about to execve the command */
      type: 'exec';
      /** epoch milliseconds, for --debug timing */
      time: number;
    };

/** The byte the native stage waits for before it goes on. */
export const GO_BYTE = 0x67;

/**
 * Largest message either side sends: a SOCK_SEQPACKET message must fit the
 * socket's send buffer, 208 KiB by default (net.core.wmem_default).
 */
export const MAX_MESSAGE = 192 << 10;

/** Room the config leaves for what the layers add to it before clone. */
export const CONFIG_HEADROOM = 32 << 10;

/** Encode a message for one write on the socket. */
export function encodeMessage(message: unknown): Buffer {
  const data = Buffer.from(JSON.stringify(message), 'utf8');
  if (data.length > MAX_MESSAGE) {
    throw new Error(`message of ${data.length} bytes is too large`);
  }
  return data;
}

/** Decode one message read from the socket. */
export function decodeMessage<T>(data: Buffer): T {
  return JSON.parse(data.toString('utf8')) as T;
}
