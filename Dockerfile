# Build stage: compile with the dev dependencies (TypeScript), then keep only the output.
FROM node:20.19-bookworm-slim AS build
WORKDIR /app
# `npm install` installs exactly what the lock pins; `npm ci` refuses this lock, which cannot list the
# platform builds of @swc/core (a test-only dependency) that the registry it was made on does not serve.
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY . .
RUN npx tsc -p tsconfig.build.json

# Runtime: production dependencies and the compiled code (tju and the billing example app that uses it),
# run as the unprivileged `node` user.
FROM node:20.19-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY migrations ./migrations
USER node
CMD ["node", "dist/examples/billing/cli.js", "worker"]
