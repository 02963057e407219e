// The Prometheus registry behind GET /metrics. Counters incremented on any thread live in
// SharedCounters (shared memory, one atomic add each); here each of their families becomes a
// prom-client metric that reads the shared cells when scraped. Values that are state rather than
// events (table sizes, pool utilisation) are gauges read by a callback at scrape time. Process
// and event-loop metrics come from prom-client's default collectors, registered once.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SharedCounters } from '../shared/counters.js';

export class Metrics {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
  }

  /** Exports every family of `counters`; call once per SharedCounters. */
  exportShared(counters: SharedCounters): void {
    for (const spec of counters.specs()) {
      const labelNames = Object.keys(spec.labels ?? {});
      const read = (): ReturnType<SharedCounters['samples']> => counters.samples(spec.name);
      if (spec.kind === 'counter') {
        new Counter({
          name: spec.name, help: spec.help, labelNames, registers: [this.registry],
          collect() {
            // A scrape rebuilds the series from the shared cells: reset, then add each current value.
            this.reset();
            for (const s of read()) this.inc(s.labels, s.value);
          },
        });
      } else {
        new Gauge({
          name: spec.name, help: spec.help, labelNames, registers: [this.registry],
          collect() {
            for (const s of read()) this.set(s.labels, s.value);
          },
        });
      }
    }
  }

  /** A counter kept by another component (e.g. the transports' statistics), every series read when scraped. */
  counterFrom<L extends string>(name: string, help: string, labelNames: readonly L[], read: () => Iterable<[Record<L, string>, number]>): void {
    new Counter({
      name, help, labelNames, registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.inc(labels, value);
      },
    });
  }

  /** A gauge whose value is read when scraped. */
  gauge(name: string, help: string, read: () => number): void {
    new Gauge({ name, help, registers: [this.registry], collect() { this.set(read()); } });
  }

  /** A gauge with labels, every series read when scraped. */
  labelledGauge<L extends string>(name: string, help: string, labelNames: readonly L[], read: () => Iterable<[Record<L, string>, number]>): void {
    new Gauge({
      name, help, labelNames, registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.set(labels, value);
      },
    });
  }

  /**
   * A histogram kept by another component as cumulative bucket counts (e.g. the netlink worker's
   * statistics in shared memory), read when scraped. `le` of the last bucket may be Infinity.
   */
  histogramFrom(name: string, help: string, read: () => { buckets: readonly { le: number; count: number }[]; sum: number; count: number }): void {
    const get = async () => {
      const h = read();
      const values: { metricName: string; labels: Record<string, string | number>; value: number }[] =
        h.buckets.map((b) => ({ metricName: `${name}_bucket`, labels: { le: b.le === Infinity ? '+Inf' : b.le }, value: b.count }));
      values.push({ metricName: `${name}_sum`, labels: {}, value: h.sum }, { metricName: `${name}_count`, labels: {}, value: h.count });
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    };
    // prom-client registers any object with a name and get(); its types only know its own classes.
    this.registry.registerMetric({ name, help, type: 'histogram', aggregator: 'sum', get } as unknown as Histogram);
  }

  histogram(name: string, help: string, buckets: number[]): Histogram {
    return new Histogram({ name, help, buckets, registers: [this.registry] });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
