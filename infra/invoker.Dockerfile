# The invoker, for both fleet modes (infra/constructs/invoker-fleet.ts). Built by the CDK CLI at
# deploy time with the repository root as context (.dockerignore keeps only what is copied here).
#   ec2 mode:     the docker factory starts action containers through the host's mounted Docker socket.
#   fargate mode: the process factory runs runtimes/*/proxy.* itself, so node and python3 are here,
#                 plus bubblewrap (used where user namespaces are allowed), unzip for zipped actions,
#                 and util-linux's setpriv, prlimit and unshare, and mount, which sandbox each process.
# It runs as root: it needs the Docker socket in ec2 mode, and in fargate mode drops each action to an
# unprivileged user (lib/invoker/process-factory.ts).
FROM public.ecr.aws/docker/library/node:22-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 unzip bubblewrap util-linux mount ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/skywhisk
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# The root's postinstall installs the libraries nodejs actions find in process mode (runtimes/nodejs).
COPY runtimes/nodejs/package.json runtimes/nodejs/package-lock.json runtimes/nodejs/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json ./
COPY lib/ lib/
COPY runtimes/ runtimes/
CMD ["node", "--import", "tsx", "lib/invoker/main.ts"]
