import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { serveDashboard, type DashboardOptions } from '../../src/dashboard';
import type { Batch } from '../../src/batch';
import type { TjuClient } from '../../src/temporal/client';
import type { Harness } from './harness';

/** Dashboards a test serves on free loopback ports, each with `base` and its own options; all closed at the end. */
export class TestDashboards {
  private readonly servers: http.Server[] = [];

  constructor(private readonly base: () => DashboardOptions) {}

  /** Serves one and answers its URL. */
  async serve(extra: Partial<DashboardOptions> = {}): Promise<string> {
    const server = await serveDashboard({ ...this.base(), port: 0, host: '127.0.0.1', ...extra });
    this.servers.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  close(): void {
    for (const server of this.servers) {
      server.closeAllConnections();
      server.close();
    }
  }
}

/** Dashboards over a harness's database, client and task queue for one batch (read when each is served). */
export const dashboardsOver = (harness: () => Harness, tju: () => TjuClient, batch: Batch, token?: string): TestDashboards =>
  new TestDashboards(() => {
    const h = harness();
    return { pool: h.pool, tju: tju(), client: h.client, batches: [batch], taskQueue: h.taskQueue, ...(token ? { token } : {}) };
  });

/** Signs `name` in through the login form with `token`, landing on the runs page. */
export async function signIn(page: Page, url: string, name: string, token: string): Promise<void> {
  await page.goto(`${url}/login`);
  await page.fill('input[name=name]', name);
  await page.fill('input[name=token]', token);
  await page.click('main button:has-text("Sign in")');
  await page.waitForURL(`${url}/`);
}
