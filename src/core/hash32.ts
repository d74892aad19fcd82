// 32-bit integer hashing shared by the core: MurmurHash3's finalizer (fmix32), which spreads the
// bits of an integer (a record's index, a string's running FNV-1a hash) evenly over 32 bits.

/** MurmurHash3's 32-bit finalizer: `h` mixed so that nearby inputs come out far apart (unsigned). */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
