import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Bus } from './constructs/bus';
import { Store } from './constructs/store';

export interface SkywhiskStackProps extends StackProps {
  /**
   * Removal policy of the tables.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Skywhisk in one stack. For now the data layer: store and bus (controller and invokers follow). */
export class SkywhiskStack extends Stack {
  public readonly store: Store;
  public readonly bus: Bus;

  constructor(scope: Construct, id: string, props: SkywhiskStackProps = {}) {
    super(scope, id, props);
    this.store = new Store(this, 'Store', { removalPolicy: props.removalPolicy });
    this.bus = new Bus(this, 'Bus');
  }
}
