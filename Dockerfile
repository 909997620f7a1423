# syntax=docker/dockerfile:1
# Build: the server type-checked and bundled by esbuild into dist/, and the React app (web/, with the
# client library it bundles) to web/dist, with the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/buildServer.ts ./scripts/
COPY src ./src
RUN npm run build
COPY scripts/buildWeb.ts ./scripts/
COPY client/package.json ./client/
COPY client/src ./client/src
COPY web ./web
RUN npm run build:web

# Runtime: production dependencies, the compiled code and the built page only, as an unprivileged user.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production PORT=3001
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Where the server looks by default (WEB_DIR: web/dist beside package.json): the app serves its page.
COPY --from=build /app/web/dist ./web/dist
USER node
EXPOSE 3001
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3001)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM reaches node directly (exec form): streams end and connections drain before exit.
# As `npm start` runs it (test/deploy/manifests.test.ts keeps the two alike).
CMD ["node", "dist/server.js"]
