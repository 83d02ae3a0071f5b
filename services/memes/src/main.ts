import { readFileSync } from 'node:fs';
import { reportStartupFailure, sleep, startService, userActivityClientFromConfig } from '@mercato/platform';
import { memesConfigSchema } from './config';
import { createMemeRepository, memeIndexes } from './data-access/meme-repository';
import { createMemeSearchIndex } from './data-access/meme-search-index';
import { createCaptionGenerator } from './domain/caption-generator';
import { corpusRecordSchema } from './domain/meme-schema';
import { createMemeUseCases } from './domain/meme-use-cases';
import { memeRoutes } from './entry-points/api/routes';

startService({
  configSchema: memesConfigSchema,
  indexes: memeIndexes,
  routes: ({ config, database, logger, shutdown, activity: reporter }) => {
    const repository = createMemeRepository(database.db);
    const index = createMemeSearchIndex();
    // The caption model is built from the corpus shipped with the service, whether or not it was imported yet.
    const corpus = readFileSync(config.MEMES_CORPUS_FILE, 'utf8')
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => corpusRecordSchema.parse(JSON.parse(line)))
      .map((record) => ({ baseName: record.baseMemeName ?? '', upperText: record.upperText, lowerText: record.lowerText }))
      .filter((caption) => caption.baseName);
    const generator = createCaptionGenerator(corpus, { seed: config.MEMES_GENERATOR_SEED });
    const activity = userActivityClientFromConfig(config);
    const useCases = createMemeUseCases({
      repository,
      index,
      generator,
      activity,
      // Searches and their texts reach the person's actor in the platform's reports of their requests (coalesced per
      // person and second, off the request path), so a search costs no report of its own.
      ...(reporter && { searches: reporter }),
      limits: {
        freePerMinute: config.MEMES_FREE_SEARCHES_PER_MINUTE,
        premiumPerMinute: config.MEMES_PREMIUM_SEARCHES_PER_MINUTE,
        generatedPerPage: config.MEMES_GENERATED_PER_PAGE,
        quotaChecked: config.MEMES_SEARCH_QUOTA === 'on',
      },
    });

    // Memes other replicas stored (created or imported) reach this one's index by a poll of the newest: they are few
    // and never edited. The window overlaps the last poll, since `storedAt` is set before the insert lands. The query
    // runs only when the stored mark changed (read before it, so an insert landing meanwhile changes it again), and
    // once a minute regardless, for an insert whose writer died before it moved the mark.
    let refresher: NodeJS.Timeout | undefined;
    let since = new Date(0);
    let seenMark: string | undefined;
    let unqueriedPolls = 0;
    const pollsPerMinute = Math.max(1, Math.round(60_000 / config.MEMES_REFRESH_INTERVAL_MS));
    const refresh = async () => {
      const mark = await repository.storedMark();
      if (mark === seenMark && ++unqueriedPolls < pollsPerMinute) return;
      unqueriedPolls = 0;
      const from = new Date(Date.now() - 2 * config.MEMES_REFRESH_INTERVAL_MS - 5000);
      for (const meme of await repository.storedSince(since)) index.upsert(meme);
      since = from;
      seenMark = mark;
    };
    return {
      router: memeRoutes(useCases, config.MEMES_IMPORT_MAX),
      // Readiness waits for the index; the load is tried again until it succeeds or the service stops.
      warmUp: async () => {
        for (let attempt = 0; ; attempt += 1) {
          const started = Date.now();
          try {
            since = new Date(started - 5000);
            seenMark = await repository.storedMark();
            const loaded = await repository.forEachBatch((batch) => batch.forEach((meme) => index.upsert(meme)));
            logger.info('meme index loaded', { memes: loaded, ms: Date.now() - started });
            break;
          } catch (error) {
            if (shutdown.aborted) return;
            logger.warn('meme index not loaded yet; retrying', { error: String(error), attempt });
            await sleep(Math.min(500 * 2 ** attempt, 5000));
          }
        }
        const tick = () => {
          if (shutdown.aborted) return;
          refresh()
            .catch((error: unknown) => logger.warn('meme refresh failed; retrying', { error: String(error) }))
            .finally(() => {
              refresher = setTimeout(tick, config.MEMES_REFRESH_INTERVAL_MS);
            });
        };
        refresher = setTimeout(tick, config.MEMES_REFRESH_INTERVAL_MS);
      },
      // The reporter is the platform's: it flushes on shutdown after this.
      stop: () => {
        if (refresher) clearTimeout(refresher);
      },
    };
  },
}).catch(reportStartupFailure);
