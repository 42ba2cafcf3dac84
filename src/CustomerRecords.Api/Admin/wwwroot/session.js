// The page's credential and its calls to the API. The credential (an API key or an OIDC access token) lives in
// sessionStorage and goes out as a header on each fetch; the page uses no cookies, so the browser never attaches
// authority on its own and cross-site request forgery has nothing to ride on.

const CREDENTIAL = 'customer-records-admin:credential';
const PENDING = 'customer-records-admin:oidc';

/** The current credential: { kind: 'key' | 'bearer', value } or null. */
export function credential() {
  try {
    return JSON.parse(sessionStorage.getItem(CREDENTIAL) ?? 'null');
  } catch {
    return null;
  }
}

export function setCredential(kind, value) {
  sessionStorage.setItem(CREDENTIAL, JSON.stringify({ kind, value }));
}

export function clearCredential() {
  sessionStorage.removeItem(CREDENTIAL);
  sessionStorage.removeItem(PENDING);
}

/**
 * One API call. Returns { ok, status, data, etag, problem }: `problem` is the API's problem document (its title and
 * detail are what the page shows), or a stand-in when the service cannot be reached. Never throws for HTTP errors.
 */
export async function api(method, path, { body, ifMatch, headers = {}, raw = false } = {}) {
  const request = { method, headers: { Accept: 'application/json', ...headers }, cache: 'no-store', credentials: 'omit' };
  const current = credential();
  if (current?.kind === 'key') request.headers['X-Api-Key'] = current.value;
  if (current?.kind === 'bearer') request.headers.Authorization = `Bearer ${current.value}`;
  if (ifMatch) request.headers['If-Match'] = ifMatch;
  if (body !== undefined) {
    request.headers['Content-Type'] = 'application/json';
    request.body = JSON.stringify(body);
  }

  let response;
  try {
    response = await fetch(path, request);
  } catch {
    return { ok: false, status: 0, problem: { title: 'The service cannot be reached', detail: 'Check the network connection and try again.' } };
  }

  const result = { ok: response.ok, status: response.status, etag: response.headers.get('ETag') };
  if (raw && response.ok) {
    result.blob = await response.blob();
    return result;
  }

  const type = response.headers.get('Content-Type') ?? '';
  const text = await response.text();
  let data = null;
  if (text && type.includes('json')) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }

  if (response.ok) {
    result.data = data;
  } else {
    result.problem = data && typeof data === 'object' && data.title
      ? data
      : { title: response.statusText || `HTTP ${response.status}`, status: response.status };
    if (response.status === 401) window.dispatchEvent(new CustomEvent('admin:unauthorized', { detail: result.problem }));
  }

  return result;
}

// --- OIDC: authorization code + PKCE (S256) as a public client ---

function base64Url(bytes) {
  let text = '';
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomText(length) {
  return base64Url(crypto.getRandomValues(new Uint8Array(length)));
}

/** Sends the browser to the issuer's sign-in page; the state and PKCE verifier wait in sessionStorage. */
export async function startOidcSignIn(oidc) {
  const verifier = randomText(32);
  const state = randomText(16);
  const challenge = base64Url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PENDING, JSON.stringify({ state, verifier }));
  const url = new URL(oidc.authorization_endpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', oidc.client_id);
  url.searchParams.set('redirect_uri', oidc.redirect_uri);
  url.searchParams.set('scope', oidc.scope);
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', challenge);
  url.searchParams.set('code_challenge_method', 'S256');
  window.location.assign(url.toString());
}

/**
 * Finishes sign-in on the callback URL: checks `state`, exchanges the code for an access token and keeps it.
 * Returns null on success, else an error { title, detail } to show on the sign-in view.
 */
export async function finishOidcSignIn(oidc, params) {
  let pending = null;
  try {
    pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null');
  } catch {
    // A damaged entry is no pending sign-in.
  }

  // Nothing in the callback URL is shown or used before its state proves it answers this page's own request:
  // anyone can link to /admin/callback with an error text of their choosing.
  if (!pending || !params.get('state') || params.get('state') !== pending.state) {
    return { title: 'Sign-in failed', detail: 'The sign-in answer does not belong to this page; sign in again.' };
  }

  sessionStorage.removeItem(PENDING);
  if (params.get('error')) {
    return { title: 'Sign-in failed', detail: params.get('error_description') || params.get('error') };
  }

  if (!params.get('code')) {
    return { title: 'Sign-in failed', detail: 'The sign-in answer does not belong to this page; sign in again.' };
  }

  let response;
  try {
    response = await fetch(oidc.token_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      credentials: 'omit',
      cache: 'no-store',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: params.get('code'),
        redirect_uri: oidc.redirect_uri,
        client_id: oidc.client_id,
        code_verifier: pending.verifier,
      }),
    });
  } catch {
    return { title: 'Sign-in failed', detail: 'The sign-in service cannot be reached.' };
  }

  const answer = await response.json().catch(() => null);
  if (!response.ok || !answer?.access_token) {
    return { title: 'Sign-in failed', detail: answer?.error_description || answer?.error || `The token endpoint answered ${response.status}.` };
  }

  setCredential('bearer', answer.access_token);
  return null;
}
