# One image, two uses in docker-compose.yml: `start` (every service configured, so
# src/stack is never loaded) and the project's mail catcher (src/stack/mail-catcher.ts).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund
COPY schemas ./schemas
COPY migrations ./migrations
COPY src ./src
COPY web ./web
COPY tsconfig.json ./
USER node
EXPOSE 3000
CMD ["node", "--import", "tsx", "src/main.ts", "start"]
