// Catalog adaptation: fine-tunes the active model on the catalog's own photos (each product its
// own instance, category and colour as extra terms), in a child process, as a job in the database
// (one at a time), and writes a complete models folder. Registering that folder as a model
// version is the registrar's part (the model-versions service, wired at the composition root).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { AdaptationJobRow, Database } from '../db/index.js';
import { AppError } from '../errors.js';
import { preparePlan, removePlan, type AdaptationPlan, type BaseModel } from './adaptation-plan.js';
import { startTraining, type TrainingProgress, type TrainingRun } from './training-process.js';

export const MAX_MINUTES = 24 * 60;
const MAX_JOBS_LISTED = 100;
/** A job whose heartbeat is older than this is taken to be dead, whoever ran it. */
const LEASE_MS = 60_000;
const HEARTBEAT_MS = 10_000;
const PROGRESS_WRITE_MS = 2_000;

/** Registers a written models folder as a model version, and switches to one: the seam to the model-versions service. */
export interface ModelRegistrar {
  register(dir: string): Promise<{ key: string }>;
  activate(key: string): Promise<void>;
}

/** A job as the faces show it: the row without its lease and step cap. */
export type AdaptationJobView = Omit<AdaptationJobRow, 'owner' | 'heartbeatAt' | 'maxSteps'>;

export interface AdaptationOptions {
  dataDir: string;
  mediaRoot: string;
  /** The model to start from (the active one). */
  base: () => Promise<BaseModel>;
  /** null until model versions can be registered: the folder is written and the command to register it is said. */
  registrar: ModelRegistrar;
  /** Cap on optimizer steps per stage for every job (ADAPT_MAX_STEPS; 0: the budget alone). */
  maxSteps: number;
  /** CPU priority the training runs at, lower than the service's (nice). */
  nice: number;
  logger: Logger;
}

export interface RunOptions {
  out?: string;
  activate?: boolean;
  command: string;
  onProgress?: (p: TrainingProgress) => void;
  onLine?: (line: string) => void;
}

const view = ({ owner: _o, heartbeatAt: _h, maxSteps: _m, ...job }: AdaptationJobRow): AdaptationJobView => job;

export class AdaptationService {
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private current: { jobId: string; training?: TrainingRun; stopping: boolean; done: Promise<AdaptationJobView> } | null = null;

  constructor(
    private readonly db: Database,
    private readonly options: AdaptationOptions,
  ) {}

  /** At start-up and before a new job: jobs left queued or running by a process that is gone become interrupted. */
  async recover(): Promise<number> {
    let n = 0;
    for (const job of await this.db.adaptationJobs.active()) {
      if (this.isAlive(job)) continue;
      await this.db.adaptationJobs.update(job.id, {
        status: 'interrupted',
        message: 'The process running it stopped; start an adaptation with the same budget to resume from its checkpoint.',
      });
      n++;
    }
    if (n) this.options.logger.warn({ interrupted: n }, 'adaptation jobs of a stopped process marked interrupted');
    return n;
  }

  /** Starts a job in the background (GraphQL); poll it with job(id). */
  async start(minutes: number, command: string): Promise<AdaptationJobView> {
    const job = await this.create(minutes);
    void this.execute(job, { command });
    return view(job);
  }

  /** Runs a job to its end (the CLI): the finished job. */
  async run(minutes: number, options: RunOptions): Promise<AdaptationJobView> {
    const job = await this.create(minutes);
    return this.execute(job, options);
  }

  async job(id: string): Promise<AdaptationJobView | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
    const row = await this.db.adaptationJobs.get(id);
    return row && view(row);
  }

  async jobs(first: number): Promise<AdaptationJobView[]> {
    if (!Number.isInteger(first) || first < 1 || first > MAX_JOBS_LISTED) {
      throw new AppError('BAD_USER_INPUT', `first must be between 1 and ${MAX_JOBS_LISTED}.`);
    }
    return (await this.db.adaptationJobs.list(first)).map(view);
  }

  /** Stops the running job's training (its checkpoint stays) and records it as interrupted. */
  async close(): Promise<void> {
    const current = this.current;
    if (!current) return;
    current.stopping = true;
    current.training?.stop();
    await current.done.catch(() => undefined);
  }

  private async create(minutes: number): Promise<AdaptationJobRow> {
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_MINUTES) {
      throw new AppError('BAD_USER_INPUT', `minutes must be a whole number from 1 to ${MAX_MINUTES}.`);
    }
    await this.recover();
    const base = await this.options.base();
    const job = await this.db.adaptationJobs.create({ minutes, maxSteps: this.options.maxSteps, baseModel: base.key, owner: this.owner });
    if (!job) {
      const [active] = await this.db.adaptationJobs.active();
      throw new AppError(
        'ADAPTATION_RUNNING',
        `An adaptation is already ${active?.status ?? 'running'}${active ? ` (job ${active.id}, ${Math.round(active.progress * 100)} %)` : ''}; one at a time.`,
      );
    }
    return job;
  }

  private execute(job: AdaptationJobRow, options: RunOptions): Promise<AdaptationJobView> {
    const current = { jobId: job.id, stopping: false } as NonNullable<typeof this.current>;
    current.done = this.train(job, options, current).finally(() => {
      if (this.current === current) this.current = null;
    });
    this.current = current;
    return current.done;
  }

  private async train(job: AdaptationJobRow, options: RunOptions, current: NonNullable<typeof this.current>): Promise<AdaptationJobView> {
    const { db, logger } = { db: this.db, logger: this.options.logger.child({ adaptationJob: job.id }) };
    const update = (fields: Parameters<Database['adaptationJobs']['update']>[1]) => db.adaptationJobs.update(job.id, fields);
    const beat = setInterval(() => void update({}).catch(() => undefined), HEARTBEAT_MS).unref();
    try {
      const base = await this.options.base();
      const images = await db.adaptationJobs.trainingImages();
      if (images.length < 2) {
        await update({ status: 'failed', message: `The catalog has ${images.length} image(s); adaptation needs at least 2.` });
        return view((await db.adaptationJobs.get(job.id))!);
      }
      const plan = await preparePlan(this.options.dataDir, this.options.mediaRoot, base, images, {
        minutes: job.minutes,
        maxSteps: job.maxSteps,
        out: options.out,
        command: options.command,
      });
      await update({
        status: 'running',
        catalogFingerprint: plan.catalogFingerprint,
        images: plan.images,
        outDir: plan.out,
        message: `${plan.resumed ? 'Resuming' : 'Training'} on ${plan.images} catalog photos from ${base.key}.`,
      });
      logger.info({ out: plan.out, images: plan.images, resumed: plan.resumed, minutes: job.minutes }, 'adaptation started');
      if (current.stopping) return await this.interrupted(job.id);
      let lastWrite = 0;
      const training = startTraining(
        [...plan.trainArgs, '--parent-pid', String(process.pid), ...(this.options.nice ? ['--nice', String(this.options.nice)] : [])],
        (p) => {
          options.onProgress?.(p);
          if (Date.now() - lastWrite < PROGRESS_WRITE_MS) return;
          lastWrite = Date.now();
          void update({ progress: p.progress, message: `${p.stage} step ${p.step}, loss ${p.loss.toFixed(3)}` }).catch(() => undefined);
        },
        options.onLine,
      );
      current.training = training;
      const outcome = await training.done;
      if (current.stopping) return await this.interrupted(job.id);
      if (!outcome.ok) {
        logger.error({ exit: outcome.exit, tail: outcome.tail }, 'adaptation training failed');
        await update({ status: 'failed', message: `Training stopped (${outcome.exit}): ${outcome.tail.slice(-3).join(' | ')}` });
        return view((await db.adaptationJobs.get(job.id))!);
      }
      return await this.finish(job.id, plan, options.activate ?? false);
    } catch (error) {
      logger.error({ err: error }, 'adaptation failed');
      await update({ status: 'failed', message: (error as Error).message }).catch(() => undefined);
      return view((await db.adaptationJobs.get(job.id))!);
    } finally {
      clearInterval(beat);
    }
  }

  private async finish(jobId: string, plan: AdaptationPlan, activate: boolean): Promise<AdaptationJobView> {
    await removePlan(plan);
    // Registered, the catalog is re-embedded into it in the background; activation waits for that.
    const { key: modelKey } = await this.options.registrar.register(plan.out);
    if (activate) await this.options.registrar.activate(modelKey);
    const message = activate
      ? `Wrote ${plan.out}, registered it as ${modelKey} and activated it: searches use it now.`
      : `Wrote ${plan.out} and registered it as ${modelKey}: once models lists it as ready, activate it (npm run models -- activate '${modelKey}', or activateModel).`;
    await this.db.adaptationJobs.update(jobId, { status: 'succeeded', progress: 1, modelKey, message });
    return view((await this.db.adaptationJobs.get(jobId))!);
  }

  private async interrupted(jobId: string): Promise<AdaptationJobView> {
    await this.db.adaptationJobs.update(jobId, {
      status: 'interrupted',
      message: 'Stopped with the service; start an adaptation with the same budget to resume from its checkpoint.',
    });
    return view((await this.db.adaptationJobs.get(jobId))!);
  }

  /** Is the process that runs this job still at it? */
  private isAlive(job: AdaptationJobRow): boolean {
    if (job.owner === this.owner) return this.current?.jobId === job.id;
    const fresh = job.heartbeatAt !== null && Date.now() - job.heartbeatAt.getTime() < LEASE_MS;
    const [host, pid] = (job.owner ?? '').split(':');
    if (!fresh || host !== hostname()) return fresh;
    // Same machine: a killed owner is known at once, without waiting for the lease to expire.
    try {
      process.kill(Number(pid), 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
}
