// The EventBridge Scheduler alarms feed lives in ./eventbridge-scheduler; this path is kept for its existing importers.
export * from './eventbridge-scheduler';
