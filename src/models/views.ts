// What the faces show of a model version (no folder path: the GraphQL query is public).
import type { ModelRow, ModelStatus } from '../db/index.js';

export interface ModelView {
  key: string;
  name: string;
  version: string;
  status: ModelStatus;
  /** Catalog images with an embedding under this model, of imagesTotal. */
  imagesEmbedded: number;
  imagesTotal: number;
  createdAt: Date;
  activatedAt: Date | null;
  /** manifest.json's training record. */
  training: Record<string, unknown> | null;
}

export function modelView(row: ModelRow, imagesEmbedded: number, imagesTotal: number): ModelView {
  return {
    key: row.key,
    name: row.name,
    version: row.version,
    status: row.status,
    imagesEmbedded,
    imagesTotal,
    createdAt: row.createdAt,
    activatedAt: row.activatedAt,
    training: row.training,
  };
}
