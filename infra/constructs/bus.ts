import { Duration } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_MAX_RECEIVE_COUNT, DEFAULT_VISIBILITY_TIMEOUT_S } from '../../lib/bus/invocation-queue';

export interface BusProps {
  /**
   * Deliveries before a message moves to the dead-letter queue.
   * @default 3
   */
  readonly maxReceiveCount?: number;
}

/**
 * The invocation queue and its dead-letter queue: encrypted, TLS only, and OpenWhisk's 1 MB
 * payloads (SQS allows 1 MiB). The visibility timeout is short (30 s) because invokers extend it
 * while they work on a message; it bounds how long a message stays hidden after its consumer died.
 */
export class Bus extends Construct {
  public readonly invocationQueue: Queue;
  public readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: BusProps = {}) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'InvocationDeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.invocationQueue = new Queue(this, 'Invocations', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(DEFAULT_VISIBILITY_TIMEOUT_S),
      retentionPeriod: Duration.days(14),
      maxMessageSizeBytes: 1024 * 1024,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT },
    });
  }
}
