// Where the chat's models come from: servers the Serve Model job started in this window, and the endpoints the
// user lists in `taxonomyStudio.chat.endpoints`. API keys live in SecretStorage under a name per endpoint, never in
// settings. No vscode import.

export const endpointsSetting = 'taxonomyStudio.chat.endpoints';

export interface ConfiguredEndpoint {
  name: string;
  /** Base URL with the version, e.g. https://host/v1. */
  url: string;
  /** Model ids to offer when the endpoint cannot list its models. */
  models?: string[];
}

/** Endpoints from the setting's value, and a line for each entry that is not usable (shown in the panel). */
export function parseEndpoints(raw: unknown): { endpoints: ConfiguredEndpoint[]; problems: string[] } {
  const endpoints: ConfiguredEndpoint[] = [];
  const problems: string[] = [];
  if (raw === undefined || raw === null) return { endpoints, problems };
  if (!Array.isArray(raw)) return { endpoints, problems: [`${endpointsSetting}: expected a list of {"name", "url"} objects`] };
  raw.forEach((entry: unknown, i) => {
    const where = `${endpointsSetting}[${i}]`;
    const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const name = typeof e.name === 'string' ? e.name.trim() : '';
    const url = typeof e.url === 'string' ? e.url.trim() : '';
    if (!name) return problems.push(`${where}: "name" is missing (a few words shown in the model picker)`);
    if (endpoints.some((x) => x.name === name) || name === servedEndpointName) return problems.push(`${where}: the name "${name}" is taken; give each endpoint its own`);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return problems.push(`${where}: "url" ${JSON.stringify(url)} is not a URL (e.g. http://127.0.0.1:8000/v1)`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return problems.push(`${where}: "url" must be http or https, not ${parsed.protocol}`);
    const models = Array.isArray(e.models) ? e.models.filter((m): m is string => typeof m === 'string' && m !== '') : undefined;
    endpoints.push({ name, url: url.replace(/\/+$/, ''), ...(models?.length ? { models } : {}) });
  });
  return { endpoints, problems };
}

/** The picker's name for the server the Serve Model job runs. */
export const servedEndpointName = 'Served';

/** SecretStorage key of an endpoint's API key. */
export function apiKeySecretName(endpointName: string): string {
  return `chat-endpoint-api-key:${endpointName}`;
}
