import type { Benchmark } from './framework';
import { auditBenchmark } from './benchmarks/audit';
import { catalogBenchmark } from './benchmarks/catalog';
import { memesBenchmark } from './benchmarks/memes';
import { pathBenchmark } from './benchmarks/path';
import { sequenceBenchmark } from './benchmarks/sequence';
import { usersBenchmark } from './benchmarks/users';

/** Every benchmark `npm run bench` knows, in the order they run; a new one is a file in benchmarks/ and a line here. */
export const benchmarks: readonly Benchmark[] = [pathBenchmark, sequenceBenchmark, catalogBenchmark, auditBenchmark, usersBenchmark, memesBenchmark];
