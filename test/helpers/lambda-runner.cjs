// Runs a bundled Lambda handler under plain Node, as the Lambda runtime would: one JSON event per
// stdin line in, one line `@@answer {id, result}` or `@@answer {id, error}` out (the handler's
// own logs also go to stdout). Usage: node lambda-runner.cjs <bundle>
const { createInterface } = require('node:readline');
const { handler } = require(process.argv[2]);
const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'function';
const context = {
  awsRequestId: 'bundle-test',
  functionName,
  invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION ?? 'us-east-1'}:123456789012:function:${functionName}`,
};
const lines = createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  const { id, event } = JSON.parse(line);
  try {
    process.stdout.write('@@answer ' + JSON.stringify({ id, result: await handler(event, context) }) + '\n');
  } catch (error) {
    process.stdout.write('@@answer ' + JSON.stringify({ id, error: String(error && error.stack) }) + '\n');
  }
});
