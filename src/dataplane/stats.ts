// The data plane's drop counters: one per engine status, plus what the plane itself refuses or loses
// (docs/data-plane.md, "Counters").
import {
  STATUS_BAD_LENGTH,
  STATUS_BAD_MAC,
  STATUS_EXPIRED_TUNNEL,
  STATUS_OK,
  STATUS_REPLAY,
  STATUS_REPLAY_FULL,
  STATUS_UNKNOWN_TUNNEL,
  STATUS_WRONG_PREV_HOP,
  STATUS_WRONG_ROLE,
} from '../constants.js';
import type { DropCounters } from './types.js';

const STATUS_REASON: Record<number, keyof DropCounters> = {
  [STATUS_UNKNOWN_TUNNEL]: 'unknownTunnel',
  [STATUS_EXPIRED_TUNNEL]: 'expiredTunnel',
  [STATUS_REPLAY]: 'replay',
  [STATUS_WRONG_PREV_HOP]: 'wrongPrevHop',
  [STATUS_BAD_LENGTH]: 'badLength',
  [STATUS_BAD_MAC]: 'badMac',
  [STATUS_WRONG_ROLE]: 'wrongRole',
  [STATUS_REPLAY_FULL]: 'replayFull',
};

export function newDropCounters(): DropCounters {
  return {
    queueFull: 0,
    closed: 0,
    unknownTunnel: 0,
    expiredTunnel: 0,
    replay: 0,
    wrongPrevHop: 0,
    badLength: 0,
    badMac: 0,
    wrongRole: 0,
    replayFull: 0,
    engineError: 0,
    workerCrash: 0,
  };
}

/** Counts each dropped message of a processed batch by its status (an unknown status as engineError); returns the OK count. */
export function countStatuses(status: Uint8Array, count: number, dropped: DropCounters): number {
  let ok = 0;
  for (let i = 0; i < count; i++) {
    const s = status[i]!;
    if (s === STATUS_OK) ok++;
    else dropped[STATUS_REASON[s] ?? 'engineError']++;
  }
  return ok;
}
