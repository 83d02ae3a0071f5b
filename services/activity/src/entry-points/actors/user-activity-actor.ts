import { AbstractActor, Temporal, type ActorId, type DaprClient } from '@dapr/dapr';
import { parseInput, type Logger } from '@mercato/platform';
import { consumeInput, reportInput, type ActivityStats, type QuotaAnswer } from '../../domain/activity-schema';
import {
  consume,
  countQueries,
  emptyActivity,
  emptyQueries,
  isRepeatedReport,
  report,
  rollUp,
  statsOf,
  type ActivityState,
  type QueryState,
} from '../../domain/user-activity';

export interface UserActivitySettings {
  /** How often the reminder rolls minute counters up into daily totals. */
  rollupIntervalSeconds: number;
  /** Daily totals older than this many days are forgotten at the next roll-up. */
  keepDays: number;
  logger: Logger;
  now?: () => Date;
}

/** The methods daprd may call on the actor; anything else on the class (the SDK's own hooks) is not callable. */
export const userActivityMethods = ['report', 'consume', 'stats'] as const;
export type UserActivityMethod = (typeof userActivityMethods)[number];

/** What the SDK's runtime registers and constructs; the actor type is the class's name. */
export type ActorClass = new (daprClient: DaprClient, id: ActorId) => AbstractActor;

const stateKey = 'activity';
/** The person's searches, apart from `activity` so that only reports carrying queries write them (QueryState). */
const queriesKey = 'queries';
const rollupReminder = 'rollup';

/**
 * The `UserActivity` actor class, one instance per user id, on the SDK's actor runtime. The class is made here with the
 * settings it needs because the runtime constructs actors itself (`new cls(daprClient, id)`); the actor type is the
 * class name, so it must stay `UserActivity`.
 *
 * Turn-based: daprd sends one call at a time per actor id, so each method reads the state, changes it and returns; the
 * runtime saves what changed (one transaction against the `actorstate` store) before the next call comes in.
 */
export function userActivityActor(settings: UserActivitySettings): ActorClass {
  const now = settings.now ?? (() => new Date());
  const interval = Temporal.Duration.from({ seconds: settings.rollupIntervalSeconds });

  return class UserActivity extends AbstractActor {
    async report(body: unknown): Promise<{ ok: true }> {
      const input = parseInput(reportInput, body, 'body');
      const before = await this.load();
      if (isRepeatedReport(before, input)) return { ok: true };
      await this.save(await this.withRollupScheduled(report(before, input, now())));
      // Both keys go to the store in the one transaction the runtime writes after this method: counted together or not at all.
      if (input.queries) await this.getStateManager<QueryState>().setState(queriesKey, countQueries(await this.loadQueries(), input));
      return { ok: true };
    }

    async consume(body: unknown): Promise<QuotaAnswer> {
      const input = parseInput(consumeInput, body, 'body');
      const { state, answer } = consume(await this.load(), input, now());
      await this.save(state);
      return answer;
    }

    async stats(): Promise<ActivityStats> {
      return statsOf(await this.load(), now(), await this.loadQueries());
    }

    /** The reminder (scheduler-backed: it fires after restarts and on whichever replica holds the actor then). */
    override async receiveReminder(): Promise<void> {
      const { state, moved } = rollUp(await this.load(), now(), settings.keepDays);
      if (moved === 0) {
        // Nothing came in since the last roll-up: an idle user costs no reminder until they are reported again. (Also
        // when the state says none is scheduled, e.g. after the store lost it: a reminder nobody tracks would run forever.)
        await this.unregisterActorReminder(rollupReminder);
        await this.save({ ...state, rollupScheduled: false });
        return;
      }
      await this.save(state);
      settings.logger.debug('rolled up', { user: this.getActorId().getId(), minutes: moved });
    }

    private async withRollupScheduled(state: ActivityState): Promise<ActivityState> {
      if (state.rollupScheduled) return state;
      await this.registerActorReminder(rollupReminder, interval, interval);
      return { ...state, rollupScheduled: true };
    }

    private async load(): Promise<ActivityState> {
      const [found, state] = await this.getStateManager<ActivityState>().tryGetState(stateKey);
      return found && state ? state : emptyActivity();
    }

    private async loadQueries(): Promise<QueryState> {
      const [found, queries] = await this.getStateManager<QueryState>().tryGetState(queriesKey);
      return found && queries ? queries : emptyQueries();
    }

    private async save(state: ActivityState): Promise<void> {
      await this.getStateManager<ActivityState>().setState(stateKey, state);
    }
  };
}
