import { isSecretName } from '../util/secrets.js';
import { agentBaseUrl } from './protocols.js';
import { GATEWAY_PROTOCOLS, type GatewayProtocol, type Upstream } from './types.js';

/**
 * Which variables of the forwarded env say where each protocol's real endpoint is and with which key, and what
 * the agent's env holds instead when a gateway is between them: the per-trial token in the key's variable, the
 * gateway's URL in the base URL's, and no other secret-named variable at all.
 */

export interface ProtocolVariables {
  key: string;
  baseUrl: string;
  /** The provider's own endpoint, as its SDK's base URL convention writes it (OpenAI's carries /v1). */
  defaultBaseUrl: string;
}

export const PROTOCOL_VARIABLES: Record<GatewayProtocol, ProtocolVariables> = {
  anthropic: { key: 'ANTHROPIC_API_KEY', baseUrl: 'ANTHROPIC_BASE_URL', defaultBaseUrl: 'https://api.anthropic.com' },
  gemini: {
    key: 'GEMINI_API_KEY',
    baseUrl: 'GOOGLE_GEMINI_BASE_URL',
    defaultBaseUrl: 'https://generativelanguage.googleapis.com',
  },
  openai: { key: 'OPENAI_API_KEY', baseUrl: 'OPENAI_BASE_URL', defaultBaseUrl: 'https://api.openai.com/v1' },
};

/**
 * The real endpoints: one per protocol whose key is in the forwarded env, at the user's *_BASE_URL or the
 * provider's own. A replay contacts none: every protocol is served (from the recording), with no key.
 */
export function gatewayUpstreams(
  env: Readonly<Record<string, string>>,
  replay: boolean,
): Partial<Record<GatewayProtocol, Upstream>> {
  const upstreams: Partial<Record<GatewayProtocol, Upstream>> = {};
  for (const protocol of GATEWAY_PROTOCOLS) {
    const vars = PROTOCOL_VARIABLES[protocol];
    const apiKey = env[vars.key] ?? '';
    if (apiKey === '' && !replay) continue;
    const baseUrl = env[vars.baseUrl]?.trim() || vars.defaultBaseUrl;
    upstreams[protocol] = { baseUrl: baseUrl.replace(/\/+$/, ''), apiKey };
  }
  return upstreams;
}

/**
 * The agent's env: the forwarded one without any secret-named variable and without the replaced base URLs, plus,
 * for each served protocol, the token as its key and the gateway (at `url`, as the sandbox sees it) as its base URL.
 */
export function agentGatewayEnv(
  env: Readonly<Record<string, string>>,
  protocols: readonly GatewayProtocol[],
  url: string,
  token: string,
): Record<string, string> {
  const replaced = new Set(protocols.map((p) => PROTOCOL_VARIABLES[p].baseUrl));
  const kept = Object.entries(env).filter(([name]) => !isSecretName(name) && !replaced.has(name));
  const out: Record<string, string> = Object.fromEntries(kept);
  for (const protocol of protocols) {
    out[PROTOCOL_VARIABLES[protocol].key] = token;
    out[PROTOCOL_VARIABLES[protocol].baseUrl] = agentBaseUrl(url, protocol);
  }
  return out;
}
