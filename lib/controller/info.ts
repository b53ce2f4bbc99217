import { actionLimitRanges, SYSTEM_LIMITS } from '../model/limits';
import { runtimesDocument } from '../model/runtimes';

const MB = 1024 * 1024;

/** `GET /`: the platform description OpenWhisk clients read (limits in ms and bytes). */
export function platformInfo(): object {
  const ranges = actionLimitRanges();
  const limits = {
    actions_per_minute: SYSTEM_LIMITS.invocationsPerMinute,
    triggers_per_minute: SYSTEM_LIMITS.firesPerMinute,
    concurrent_actions: SYSTEM_LIMITS.concurrentInvocations,
    sequence_length: SYSTEM_LIMITS.sequenceMaxLength,
    min_action_duration: ranges.timeout.min,
    max_action_duration: ranges.timeout.max,
    min_action_memory: ranges.memory.min * MB,
    max_action_memory: ranges.memory.max * MB,
    min_action_logs: ranges.logs.min * MB,
    max_action_logs: ranges.logs.max * MB,
    default_min_action_duration: ranges.timeout.min,
    default_max_action_duration: ranges.timeout.max,
    default_min_action_memory: ranges.memory.min * MB,
    default_max_action_memory: ranges.memory.max * MB,
    default_min_action_logs: ranges.logs.min * MB,
    default_max_action_logs: ranges.logs.max * MB,
  };
  return {
    description: 'OpenWhisk',
    support: { github: 'https://github.com/apache/openwhisk/issues', slack: 'http://slack.openwhisk.org' },
    api_paths: ['/api/v1'],
    limits,
    runtimes: runtimesDocument(),
  };
}

/** `GET /api/v1`. */
export function apiInfo(): object {
  return {
    description: 'OpenWhisk API',
    api_version: '1.0.0',
    api_version_path: 'v1',
    build: 'skywhisk',
    buildno: process.env.SKYWHISK_BUILD ?? 'dev',
    swagger_paths: { ui: '/docs', 'api-docs': '/api-docs' },
  };
}
