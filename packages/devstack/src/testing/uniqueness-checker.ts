/**
 * Records every value a sequence hands out to concurrent clients — across replicas, kills and restarts — and proves
 * that none came twice. Bounded in time and in count: `npm test` runs it small, `npm run bench -- sequence` large.
 */
export interface UniquenessOptions {
  /** One request: the values it got, or `'retry'` for an answer that handed out nothing (503 while a replica restarts). */
  call: () => Promise<number[] | 'retry'>;
  clients: number;
  /** Stops once this many values were handed out… */
  maxValues: number;
  /** …or after this long, whichever comes first. */
  maxMs: number;
  /** Pause after a `'retry'`, so a restarting replica is not hammered. */
  retryPauseMs?: number;
}

export interface UniquenessReport {
  /** Every value handed out, in the order each arrived. */
  values: number[];
  /** Values handed out more than once (each listed once); empty when the sequence kept its promise. */
  duplicates: number[];
  requests: number;
  retries: number;
  /** Per client, whether every value it got was above every value it got before (true of any sequence per client). */
  increasingPerClient: boolean;
  elapsedMs: number;
}

export interface UniquenessRun {
  /** Values handed out so far. */
  handedOut(): number;
  /** Ends the run early (after the requests in flight). */
  stop(): void;
  result: Promise<UniquenessReport>;
}

export function startUniquenessCheck(options: UniquenessOptions): UniquenessRun {
  const started = Date.now();
  const deadline = started + options.maxMs;
  const values: number[] = [];
  let requests = 0;
  let retries = 0;
  let stopped = false;
  let increasingPerClient = true;
  const running = () => !stopped && values.length < options.maxValues && Date.now() < deadline;

  async function client(): Promise<void> {
    let highest = -Infinity;
    while (running()) {
      requests += 1;
      const got = await options.call();
      if (got === 'retry') {
        retries += 1;
        await new Promise((resolve) => setTimeout(resolve, options.retryPauseMs ?? 50));
        continue;
      }
      for (const value of got) {
        if (value <= highest) increasingPerClient = false;
        highest = Math.max(highest, value);
        values.push(value);
      }
    }
  }

  const result = Promise.all(Array.from({ length: options.clients }, client)).then((): UniquenessReport => {
    const seen = new Set<number>();
    const duplicates = new Set<number>();
    for (const value of values) {
      if (seen.has(value)) duplicates.add(value);
      seen.add(value);
    }
    return { values, duplicates: [...duplicates], requests, retries, increasingPerClient, elapsedMs: Date.now() - started };
  });
  return {
    handedOut: () => values.length,
    stop: () => {
      stopped = true;
    },
    result,
  };
}
