# syntax=docker/dockerfile:1
# Visual product search: build with the dev toolchain, run on a slim image with production deps.
#   docker compose up --build        (Postgres + pgvector and this app; see docker-compose.yml)
#   docker build -t vps . && docker run -p 4000:4000 -v vps-data:/data vps   (embedded PGlite)

# ---- build: TypeScript → dist/, the Prisma client, the web UI (npm run build does all three)
FROM node:20-bookworm-slim AS build
WORKDIR /app
# onnxruntime-node's install script would download CUDA libraries; the CPU library ships in the package.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
# postinstall runs `prisma generate` (needs prisma/ above) into generated/prisma.
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && mkdir -p models

# ---- production dependencies only (no install scripts: the Prisma client comes from the build
# stage, sharp and onnxruntime-node ship prebuilt binaries in their packages)
FROM node:20-bookworm-slim AS deps
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime
FROM node:20-bookworm-slim
WORKDIR /app
# MALLOC_ARENA_MAX: glibc's per-thread malloc arenas keep memory that image decoding (libvips,
# many threads) freed; two arenas bring memory back near its baseline after bursts (bench/attack.ts).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    DATA_DIR=/data \
    MODELS_DIR=/app/models \
    ONNXRUNTIME_NODE_INSTALL=skip \
    MALLOC_ARENA_MAX=2
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/package.json ./package.json
# dist/ holds src/ and the generated Prisma client (generated/prisma), both compiled by tsc.
COPY --from=build /app/dist ./dist
# SQL migrations, applied by the app at start-up (src/db/migrator.ts finds prisma/migrations).
COPY --from=build /app/prisma ./prisma
COPY --from=build /app/models ./models
COPY --from=build /app/web/dist ./web/dist
# The demo catalog's photos and listing (src/demo/photo-catalog.ts finds them beside dist/).
COPY --from=build /app/demo ./demo
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 4000
HEALTHCHECK --interval=15s --timeout=5s --start-period=90s --retries=5 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/main.js"]
