# smpp-bridge: multi-stage build; the final image has production dependencies only and runs as non-root.
FROM node:24-slim AS build
# better-sqlite3 is a native addon: npm ci compiles it when no prebuilt binary can be fetched.
# The toolchain stays in this stage; the final image gets the compiled module only.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:24-slim
ENV NODE_ENV=production PORT=8080
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
COPY --chown=node:node openapi ./openapi
COPY --chown=node:node config ./config
COPY --chown=node:node ui ./ui
# store.path defaults to ./data/smpp-bridge.db: a directory the non-root user can write; mount a
# volume here to keep messages across containers.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME /app/data
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/livez').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["serve"]
