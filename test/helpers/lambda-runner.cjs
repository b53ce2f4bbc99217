// Runs a bundled Lambda handler under plain Node, as the Lambda runtime would: one JSON event per
// stdin line in, one line `@@answer {id, result}` or `@@answer {id, error}` out (the handler's
// own logs also go to stdout). Usage: node lambda-runner.cjs <bundle>
//
// A handler wrapped in `awslambda.streamifyResponse` gets a response stream, as in Lambda's Node
// runtime: this file stands in for the runtime's `awslambda` global, with its wire format (the
// HTTP metadata as JSON, eight zero bytes, then the body). Its answer is read back into the shape
// of a buffered proxy result, with `streamed: true`.
const { createInterface } = require('node:readline');
const { PassThrough } = require('node:stream');

const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const DELIMITER = Buffer.alloc(8);
globalThis.awslambda = {
  streamifyResponse(handler) {
    handler[STREAMING] = 'response';
    return handler;
  },
  HttpResponseStream: {
    from(stream, metadata) {
      stream.write(JSON.stringify(metadata));
      stream.write(DELIMITER);
      return stream;
    },
  },
};

const { handler } = require(process.argv[2]);
const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'function';
const context = {
  awsRequestId: 'bundle-test',
  functionName,
  invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION ?? 'us-east-1'}:123456789012:function:${functionName}`,
};

async function streamedAnswer(event) {
  const stream = new PassThrough();
  const chunks = [];
  stream.on('data', (chunk) => chunks.push(chunk));
  const ended = new Promise((resolve) => stream.on('end', resolve));
  await handler(event, stream, context);
  await ended;
  const bytes = Buffer.concat(chunks);
  const split = bytes.indexOf(DELIMITER);
  if (split < 0) return { streamed: true, statusCode: 500, headers: {}, body: bytes.toString('utf8'), noMetadata: true };
  const metadata = JSON.parse(bytes.subarray(0, split).toString('utf8'));
  const body = bytes.subarray(split + DELIMITER.length);
  const text = body.toString('utf8');
  const binary = !Buffer.from(text, 'utf8').equals(body);
  return { streamed: true, ...metadata, body: binary ? body.toString('base64') : text, isBase64Encoded: binary };
}

const lines = createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  const { id, event } = JSON.parse(line);
  try {
    const result = handler[STREAMING] ? await streamedAnswer(event) : await handler(event, context);
    process.stdout.write('@@answer ' + JSON.stringify({ id, result }) + '\n');
  } catch (error) {
    process.stdout.write('@@answer ' + JSON.stringify({ id, error: String(error && error.stack) }) + '\n');
  }
});
