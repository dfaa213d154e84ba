// Catalog adaptation jobs in the database: status and progress that outlive the process running
// them, at most one queued or running at a time, and the catalog photos a job trains on.
import type { Scope } from './scope.js';

export type AdaptationStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'interrupted';

export interface AdaptationJobRow {
  id: string;
  status: AdaptationStatus;
  minutes: number;
  maxSteps: number;
  progress: number;
  message: string | null;
  baseModel: string;
  catalogFingerprint: string | null;
  images: number | null;
  outDir: string | null;
  modelKey: string | null;
  owner: string | null;
  heartbeatAt: Date | null;
  startedAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

/** One catalog photo as training sees it: the display rendition's media path and its product's fields. */
export interface TrainingImage {
  sha256: string;
  mediaPath: string;
  productId: string;
  category: string | null;
  colour: string | null;
}

export type AdaptationJobUpdate = Partial<
  Pick<AdaptationJobRow, 'status' | 'progress' | 'message' | 'catalogFingerprint' | 'images' | 'outDir' | 'modelKey'>
>;

export interface AdaptationJobRepository {
  /** A new queued job; null when another job is queued or running (one at a time). */
  create(job: { minutes: number; maxSteps: number; baseModel: string; owner: string }): Promise<AdaptationJobRow | null>;
  get(id: string): Promise<AdaptationJobRow | null>;
  /** The newest jobs first. */
  list(limit: number): Promise<AdaptationJobRow[]>;
  /** Jobs that are queued or running by their record (perhaps in a process that died). */
  active(): Promise<AdaptationJobRow[]>;
  /** Changes a job's fields and refreshes its heartbeat; a final status also sets finishedAt. */
  update(id: string, update: AdaptationJobUpdate): Promise<void>;
  /** Every catalog image with its product's fields, in sha256 order. */
  trainingImages(): Promise<TrainingImage[]>;
}

const FINAL: AdaptationStatus[] = ['succeeded', 'failed', 'interrupted'];
const asJob = (row: { status: string }) => row as unknown as AdaptationJobRow;

export function adaptationJobRepository(scope: Scope): AdaptationJobRepository {
  const { q } = scope;
  return {
    async create(job) {
      try {
        return asJob(await q.adaptationJob.create({ data: { ...job, status: 'queued', heartbeatAt: new Date() } }));
      } catch (error) {
        // The partial unique index on active jobs: another one is queued or running.
        if ((error as { code?: string }).code === 'P2002') return null;
        throw error;
      }
    },

    async get(id) {
      const row = await q.adaptationJob.findUnique({ where: { id } });
      return row && asJob(row);
    },

    async list(limit) {
      return (await q.adaptationJob.findMany({ orderBy: { startedAt: 'desc' }, take: limit })).map(asJob);
    },

    async active() {
      return (await q.adaptationJob.findMany({ where: { status: { in: ['queued', 'running'] } } })).map(asJob);
    },

    async update(id, update) {
      const now = new Date();
      const final = update.status !== undefined && FINAL.includes(update.status);
      await q.adaptationJob.update({ where: { id }, data: { ...update, heartbeatAt: now, ...(final && { finishedAt: now }) } });
    },

    async trainingImages() {
      const rows = await q.productImage.findMany({
        select: { sha256: true, mediaPath: true, productId: true, product: { select: { category: true, colour: true } } },
        orderBy: { sha256: 'asc' },
      });
      return rows.map(({ product, ...image }) => ({ ...image, sha256: image.sha256.trim(), ...product }));
    },
  };
}
