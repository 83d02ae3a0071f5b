/**
 * One sequence's reserved blocks in one replica (Leaf's segment mode with its double buffer). Values are served from
 * memory; a block is only ever one that `reserve` returned, i.e. one whose reservation was durably written, so a number
 * is never handed out unless its block is reserved. The next block is reserved in the background once `prefetchAt` of
 * the current one is used, and blocks grow while they go fast. A crash loses what is left of the blocks in memory:
 * a gap, never a reuse.
 */
export interface BlockPolicy {
  /** The sequence's configured block size: where the adaptive size starts and the least it shrinks to. */
  blockSize: number;
  /** The most the adaptive size grows to. */
  maxBlockSize: number;
  /** A block reserved sooner than this after the previous one doubles the size; one four times later halves it. */
  targetMs: number;
  /** Share of the current block used when the next one is reserved in the background. */
  prefetchAt: number;
}

export interface ReservedRange {
  start: number;
  end: number;
}

const prefetchPauseMs = 1000;

interface Block {
  start: number;
  next: number;
  end: number;
}

export class BlockAllocator {
  private readonly blocks: Block[] = [];
  private reserving: Promise<void> | undefined;
  private size: number;
  private lastReservedAt: number | undefined;
  /** After a failed background reservation (lock store down, say), the next try waits this long instead of every call. */
  private prefetchPausedUntil = 0;

  constructor(
    private readonly reserve: (size: number) => Promise<ReservedRange>,
    private policy: BlockPolicy,
    private readonly onBackgroundFailure: (error: unknown) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.size = policy.blockSize;
  }

  /** The size the next reservation asks for (without `needed`). */
  get nextBlockSize(): number {
    return this.size;
  }

  /** Values held in memory right now. */
  get available(): number {
    return this.blocks.reduce((sum, block) => sum + (block.end - block.next), 0);
  }

  setPolicy(policy: BlockPolicy): void {
    if (policy.blockSize !== this.policy.blockSize) this.size = policy.blockSize;
    this.size = Math.min(Math.max(this.size, policy.blockSize), Math.max(policy.blockSize, policy.maxBlockSize));
    this.policy = policy;
  }

  /** Forgets every block held (a switch to strict mode): their values become a gap. */
  drop(): void {
    this.blocks.length = 0;
  }

  /** `count` values, ascending; waits for a reservation only when memory holds too few. */
  async take(count: number): Promise<number[]> {
    const values: number[] = [];
    while (values.length < count) {
      const block = this.blocks[0];
      if (block && block.next < block.end) {
        const n = Math.min(count - values.length, block.end - block.next);
        for (let i = 0; i < n; i += 1) values.push(block.next + i);
        block.next += n;
        this.prefetchIfDue();
        continue;
      }
      if (block) {
        this.blocks.shift();
        this.prefetchIfDue();
        continue;
      }
      await this.refill(count - values.length);
    }
    return values;
  }

  private prefetchIfDue(): void {
    if (this.reserving || this.blocks.length > 1) return;
    const current = this.blocks[0];
    if (current && (current.next - current.start) < this.policy.prefetchAt * (current.end - current.start)) return;
    if (current && this.now() < this.prefetchPausedUntil) return;
    this.refill(1).catch((error: unknown) => {
      this.prefetchPausedUntil = this.now() + prefetchPauseMs;
      this.onBackgroundFailure(error);
    });
  }

  /** One reservation at a time per sequence and replica; callers that need values meanwhile share it. */
  private refill(needed: number): Promise<void> {
    this.reserving ??= (async () => {
      try {
        const size = Math.max(this.adaptedSize(), needed);
        const range = await this.reserve(size);
        this.lastReservedAt = this.now();
        this.blocks.push({ start: range.start, next: range.start, end: range.end });
      } finally {
        this.reserving = undefined;
      }
    })();
    return this.reserving;
  }

  private adaptedSize(): number {
    if (this.lastReservedAt !== undefined) {
      const elapsed = this.now() - this.lastReservedAt;
      const ceiling = Math.max(this.policy.blockSize, this.policy.maxBlockSize);
      if (elapsed < this.policy.targetMs) this.size = Math.min(ceiling, this.size * 2);
      else if (elapsed > 4 * this.policy.targetMs) this.size = Math.max(this.policy.blockSize, Math.floor(this.size / 2));
    }
    return this.size;
  }
}
