import { optionsFromEnv, startPlatform } from './platform';

/** `npm start`: the whole platform on one machine, like OpenWhisk's standalone server. */
async function main(): Promise<void> {
  // The SDK warns on every process that Node 20 support ends in 2027; the README says so once.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const options = optionsFromEnv();
  console.log(`Starting Skywhisk (data in ${options.dataDir})...`);
  const platform = await startPlatform({ ...options, onProgress: (message) => console.log(message), onEvent: (message) => console.error(message) });
  const invoker = await platform.invokerStatus();
  console.log(
    [
      '',
      `Skywhisk is ready.`,
      `  API host:   ${platform.apiHost}`,
      `  Auth:       ${platform.auth}`,
      `  Namespace:  ${platform.namespace}`,
      `  Endpoint:   ${platform.endpointUrl} (DynamoDB + SQS)`,
      `  Containers: ${invoker.factory}`,
      `  Logs:       ${options.dataDir}/logs`,
      `  Operator:   ${options.dataDir}/admin-auth (GET ${platform.apiHost}/invokers)`,
      '',
      'Point the CLI at it:',
      `  wsk property set --apihost '${platform.apiHost}' --auth '${platform.auth}'`,
      `  (or: export WSK_CONFIG_FILE=${platform.wskpropsFile})`,
      '',
      'Press Ctrl-C to stop.',
    ].join('\n'),
  );
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping: finishing work in flight...');
    platform
      .stop()
      .then(() => {
        console.log('Stopped.');
        process.exit(0);
      })
      .catch((error: unknown) => {
        console.error(error);
        process.exit(1);
      });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // The supervisor replaces any process that crashes; one it cannot start again stops the platform.
  platform.onFatal((reason) => {
    if (stopping) return;
    console.error(`${reason}; stopping the platform.`);
    stop();
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
