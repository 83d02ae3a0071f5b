import { createClient } from '@redis/client';
import type { Logger } from '@mercato/platform';

/**
 * The consumer groups through which each replica receives every catalog event for its own search index.
 *
 * Dapr's Redis pub/sub gives all replicas of an app id one consumer group, so an event reaches one of them. The
 * `catalog-index` component names its group after the replica (`consumerID: catalog-index-{podName}`), so every replica
 * has a group of its own. Two things Dapr's API cannot do are done here against the Redis behind the stream:
 * - daprd creates a missing group at the stream's beginning (`XGROUP CREATE … 0`), which would replay every event ever
 *   published; the replica instead creates (or moves) its group to the stream's end just before it loads its snapshot,
 *   so it receives exactly what happens after that point (events around the boundary arrive twice at most, and the
 *   index ignores a version it already has);
 * - a replica that is gone leaves its group behind, and Redis keeps every entry that group has not acknowledged;
 *   groups whose consumer has been idle longer than `idleMs` are removed.
 * daprd reads with the group's name as its consumer name, so the consumer is created here too: its idle time then
 * counts from the group's creation, and a group whose replica has not subscribed yet is not taken for abandoned.
 */
export interface IndexConsumerGroups {
  /** This replica's group, at the stream's current end. */
  startAtEnd(): Promise<void>;
  /** Removes the groups of replicas that are gone; returns their names. */
  removeAbandoned(): Promise<string[]>;
  /** Removes this replica's own group (on a clean shutdown). */
  removeOwn(): Promise<void>;
  close(): Promise<void>;
}

export interface IndexConsumerGroupOptions {
  redisUrl: string;
  stream: string;
  groupPrefix: string;
  podName: string;
  idleMs: number;
  logger: Logger;
}

const isBusyGroup = (error: unknown) => String(error).includes('BUSYGROUP');

export function createIndexConsumerGroups(options: IndexConsumerGroupOptions): IndexConsumerGroups {
  const { stream, logger } = options;
  const own = `${options.groupPrefix}${options.podName}`;
  const client = createClient({ url: options.redisUrl, socket: { connectTimeout: 3000, reconnectStrategy: (retries) => Math.min(retries * 200, 2000) } });
  client.on('error', (error: unknown) => logger.debug('redis (index consumer groups)', { error: String(error) }));
  let connecting: Promise<unknown> | undefined;
  const connected = async () => {
    connecting ??= client.connect();
    await connecting;
    return client;
  };

  return {
    async startAtEnd() {
      const redis = await connected();
      try {
        await redis.sendCommand(['XGROUP', 'CREATE', stream, own, '$', 'MKSTREAM']);
      } catch (error) {
        if (!isBusyGroup(error)) throw error;
        // A restart of this replica: the snapshot about to be loaded covers everything up to now.
        await redis.sendCommand(['XGROUP', 'SETID', stream, own, '$']);
      }
      await redis.sendCommand(['XGROUP', 'CREATECONSUMER', stream, own, own]);
      logger.info('index consumer group at the stream end', { group: own });
    },

    async removeAbandoned() {
      const redis = await connected();
      const removed: string[] = [];
      const groups = (await redis.sendCommand(['XINFO', 'GROUPS', stream])) as unknown[];
      for (const group of groups.map(fields)) {
        const name = String(group['name']);
        if (!name.startsWith(options.groupPrefix) || name === own) continue;
        const consumers = ((await redis.sendCommand(['XINFO', 'CONSUMERS', stream, name])) as unknown[]).map(fields);
        const idleMs = Math.min(...consumers.map((c) => Number(c['idle'] ?? 0)));
        // No consumer at all: daprd re-created the group after its replica left (it does so on NOGROUP).
        if (consumers.length === 0 || idleMs > options.idleMs) {
          await redis.sendCommand(['XGROUP', 'DESTROY', stream, name]);
          removed.push(name);
        }
      }
      if (removed.length) logger.info('removed consumer groups of replicas that are gone', { groups: removed });
      return removed;
    },

    async removeOwn() {
      const redis = await connected();
      await redis.sendCommand(['XGROUP', 'DESTROY', stream, own]);
    },

    async close() {
      if (connecting) await client.quit().catch(() => undefined);
    },
  };
}

/** XINFO answers each entry as a flat [name, value, name, value, …] list (RESP2). */
function fields(entry: unknown): Record<string, unknown> {
  const list = Array.isArray(entry) ? entry : [];
  const record: Record<string, unknown> = {};
  for (let i = 0; i + 1 < list.length; i += 2) record[String(list[i])] = list[i + 1];
  return record;
}
