import { imageForKind, isNativeSkeleton, runtimeImageOverrides } from '../../lib/model/runtimes';

// A deployment names its runtime images (ECR URIs built by the CDK app) in SKYWHISK_RUNTIME_IMAGES;
// without it every kind runs in the locally built image.

const saved = process.env.SKYWHISK_RUNTIME_IMAGES;
afterEach(() => {
  if (saved === undefined) delete process.env.SKYWHISK_RUNTIME_IMAGES;
  else process.env.SKYWHISK_RUNTIME_IMAGES = saved;
});

const ECR_NODE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/cdk-hnb659fds-container-assets-123456789012-us-east-1:abc123';

test('without the variable there are no overrides and kinds run in the local images', () => {
  // GIVEN no manifest
  delete process.env.SKYWHISK_RUNTIME_IMAGES;
  // THEN
  expect(runtimeImageOverrides({})).toEqual({});
  expect(runtimeImageOverrides({ SKYWHISK_RUNTIME_IMAGES: '  ' })).toEqual({});
  expect(imageForKind('nodejs:20')).toBe('skywhisk/action-nodejs-v20');
  expect(imageForKind('python:default')).toBe('skywhisk/action-python-v3.11');
});

test('the manifest replaces the image of the kinds it names, default kinds included, and leaves the others', () => {
  // GIVEN a manifest naming only the nodejs image
  process.env.SKYWHISK_RUNTIME_IMAGES = JSON.stringify({ 'nodejs:22': ECR_NODE });
  // THEN
  expect(imageForKind('nodejs:22')).toBe(ECR_NODE);
  expect(imageForKind('nodejs:default')).toBe(ECR_NODE);
  expect(imageForKind('nodejs:20')).toBe('skywhisk/action-nodejs-v20');
  expect(imageForKind('python:3.11')).toBe('skywhisk/action-python-v3.11');
  // WHEN the variable changes, the next use reads it again
  process.env.SKYWHISK_RUNTIME_IMAGES = JSON.stringify({ 'python:3.11': 'registry.example/python:1' });
  expect(imageForKind('python:3.11')).toBe('registry.example/python:1');
  expect(imageForKind('nodejs:20')).toBe('skywhisk/action-nodejs-v20');
});

test('a manifest that is not an object of known kinds to image names fails with the variable named', () => {
  const parse = (value: string) => () => runtimeImageOverrides({ SKYWHISK_RUNTIME_IMAGES: value });
  expect(parse('not json')).toThrow(/SKYWHISK_RUNTIME_IMAGES is not JSON/);
  expect(parse('["nodejs:20"]')).toThrow(/SKYWHISK_RUNTIME_IMAGES is not an object of runtime kind to image/);
  expect(parse('{"nodejs:20": 3}')).toThrow(/nodejs:20: .*expected string/);
  expect(parse('{"nodejs:20": ""}')).toThrow(/nodejs:20: an image name or URI/);
  expect(parse('{"nodejs:default": "x"}')).toThrow(/nodejs:default: not a runtime kind \(known: nodejs:22, nodejs:20, python:3.11\)/);
  // AND imageForKind reports the same error at first use
  process.env.SKYWHISK_RUNTIME_IMAGES = '{"go:1.22": "x"}';
  expect(() => imageForKind('nodejs:20')).toThrow(/go:1.22: not a runtime kind/);
  expect(() => imageForKind('nodejs:99')).toThrow(/no runtime image for kind 'nodejs:99'/);
});

test.each([
  ['openwhisk/dockerskeleton', true],
  ['openwhisk/dockerskeleton:nightly', true],
  ['docker.io/openwhisk/dockerskeleton:1.14.0', true],
  ['registry.example/openwhisk/dockerskeleton', false],
  ['openwhisk/dockerskeleton-fork', false],
  ['openwhisk/action-nodejs-v20', false],
])('%s is the native skeleton image: %s', (image, native) => {
  expect(isNativeSkeleton(image)).toBe(native);
});
