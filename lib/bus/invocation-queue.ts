import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { ActivationMessage } from '../model/activation';
import { asError, Coalescer } from '../store/coalescer';

export interface ReceivedMessage {
  body: string;
  receiptHandle: string;
  receiveCount: number;
}

/**
 * Messages stay invisible this long after a receive. An invoker keeps the messages it works on
 * invisible (it extends them every third of this), so the timeout bounds how long a message stays
 * hidden after its consumer died: also one handed to a long poll whose connection was already gone.
 */
export const DEFAULT_VISIBILITY_TIMEOUT_S = 30;
/** Deliveries before a message moves to the dead-letter queue. */
export const DEFAULT_MAX_RECEIVE_COUNT = 3;

/** SQS takes at most 10 messages, and 256 KiB in all, in one batch call. */
const MAX_BATCH_ENTRIES = 10;
const MAX_BATCH_BYTES = 256 * 1024;

/**
 * The SQS invocation queue: controllers send activation messages, invokers receive them. Sends and
 * deletes made at the same time go in batch calls (see Coalescer): one call for up to ten.
 */
export class InvocationQueue {
  private url: Promise<string> | undefined;
  private readonly sends = new Coalescer<string, void>((_, bodies) => this.sendBatch(bodies), MAX_BATCH_ENTRIES);
  private readonly deletes = new Coalescer<string, void>((_, handles) => this.deleteBatch(handles), MAX_BATCH_ENTRIES);

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueName: string,
  ) {}

  queueUrl(): Promise<string> {
    this.url ??= this.sqs
      .send(new GetQueueUrlCommand({ QueueName: this.queueName }))
      .then((r) => r.QueueUrl!)
      .catch((error: unknown) => {
        this.url = undefined;
        throw error;
      });
    return this.url;
  }

  async send(message: ActivationMessage): Promise<void> {
    await this.sendRaw(JSON.stringify(message));
  }

  /** Sends one message; resolved once SQS has accepted it. */
  sendRaw(body: string): Promise<void> {
    return this.sends.submit('', body);
  }

  private async sendBatch(bodies: string[]): Promise<Array<void | Error>> {
    const QueueUrl = await this.queueUrl();
    if (bodies.length === 1 || bodies.reduce((sum, body) => sum + Buffer.byteLength(body), 0) > MAX_BATCH_BYTES) {
      // Alone, or too large together: one call each.
      return Promise.all(bodies.map((MessageBody) => this.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody })).then(() => undefined, asError)));
    }
    const { Failed } = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: bodies.map((MessageBody, i) => ({ Id: String(i), MessageBody })) }));
    return batchOutcomes(bodies.length, Failed);
  }

  async receive(maxMessages: number, waitTimeSeconds: number, abortSignal?: AbortSignal): Promise<ReceivedMessage[]> {
    const result = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: await this.queueUrl(),
        MaxNumberOfMessages: Math.min(10, Math.max(1, maxMessages)),
        WaitTimeSeconds: waitTimeSeconds,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
      { abortSignal },
    );
    return (result.Messages ?? []).map((m) => ({
      body: m.Body ?? '',
      receiptHandle: m.ReceiptHandle!,
      receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? '1'),
    }));
  }

  delete(receiptHandle: string): Promise<void> {
    return this.deletes.submit('', receiptHandle);
  }

  private async deleteBatch(handles: string[]): Promise<Array<void | Error>> {
    const QueueUrl = await this.queueUrl();
    if (handles.length === 1) {
      await this.sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: handles[0] }));
      return [undefined];
    }
    const { Failed } = await this.sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: handles.map((ReceiptHandle, i) => ({ Id: String(i), ReceiptHandle })) }));
    return batchOutcomes(handles.length, Failed);
  }

  /** Whether the queue holds no message at all: none waiting, in flight or delayed (as SQS counts them, approximately). */
  async isEmpty(): Promise<boolean> {
    const counts = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;
    const { Attributes } = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: await this.queueUrl(), AttributeNames: [...counts] }));
    return counts.every((name) => Number(Attributes?.[name] ?? 0) === 0);
  }

  /** Makes a received message visible again after `seconds` (0: at once, to give work back). */
  async setVisibility(receiptHandle: string, seconds: number): Promise<void> {
    await this.sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: await this.queueUrl(), ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }),
    );
  }
}

/** One outcome per entry of a batch call: an Error for each entry SQS reports as failed. */
function batchOutcomes(count: number, failed: Array<{ Id?: string; Code?: string; Message?: string }> | undefined): Array<void | Error> {
  const outcomes: Array<void | Error> = Array.from({ length: count }, () => undefined);
  for (const entry of failed ?? []) outcomes[Number(entry.Id)] = new Error(`SQS refused a batch entry: ${entry.Code ?? 'error'} ${entry.Message ?? ''}`.trim());
  return outcomes;
}

/** Creates the invocation queue and its dead-letter queue with a redrive policy (local mode). */
export async function ensureQueues(
  sqs: SQSClient,
  names: { invoke: string; invokeDeadLetter: string },
  options: { visibilityTimeoutS?: number; maxReceiveCount?: number } = {},
): Promise<void> {
  const dlq = await sqs.send(
    new CreateQueueCommand({ QueueName: names.invokeDeadLetter, Attributes: { MessageRetentionPeriod: '1209600' } }),
  );
  const dlqArn = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ['QueueArn'] }),
  );
  await sqs.send(
    new CreateQueueCommand({
      QueueName: names.invoke,
      Attributes: {
        VisibilityTimeout: String(options.visibilityTimeoutS ?? DEFAULT_VISIBILITY_TIMEOUT_S),
        MessageRetentionPeriod: '1209600',
        // OpenWhisk accepts 1 MB payloads; SQS allows 1 MiB messages (LocalStack defaults lower).
        MaximumMessageSize: '1048576',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn.Attributes!.QueueArn,
          maxReceiveCount: options.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT,
        }),
      },
    }),
  );
}
