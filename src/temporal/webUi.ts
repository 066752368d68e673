/** Links into Temporal's Web UI, when its address is known; undefined otherwise. */
export class WebUiLinks {
  constructor(
    private readonly uiUrl: string | undefined,
    private readonly namespace: string,
  ) {}

  /** A workflow's page: of one execution when `runId` is given, else of its latest. */
  workflow(workflowId: string, runId?: string): string | undefined {
    if (!this.uiUrl) return undefined;
    const page = `${this.namespacePage()}/workflows/${encodeURIComponent(workflowId)}`;
    return runId ? `${page}/${runId}/history` : page;
  }

  /** The list of the workflows a visibility query selects. */
  list(query: string): string | undefined {
    return this.uiUrl ? `${this.namespacePage()}/workflows?query=${encodeURIComponent(query)}` : undefined;
  }

  private namespacePage(): string {
    return `${this.uiUrl}/namespaces/${encodeURIComponent(this.namespace)}`;
  }
}
