/* global fetch */
// The feed action of /whisk.system/alarms/{alarm,interval,once}: a plain Node.js action. The CLI
// invokes it blocking with {lifecycleEvent, triggerName, authKey, ...feed parameters}; it calls the
// platform's alarms provider API (/api/v1/namespaces/{ns}/alarms/{trigger}) with the caller's key.
// It resolves {error: message} on failure, so the activation is an application error.

const FEEDS = ['alarm', 'interval', 'once'];
const RESERVED = ['lifecycleEvent', 'triggerName', 'authKey', 'apihost', 'feed'];

function apiHost(params) {
  let host = process.env.__OW_API_HOST || params.apihost || '';
  if (!/^https?:\/\//.test(host)) host = 'https://' + host;
  return host.replace(/\/+$/, '');
}

/** `/ns/name` or `name` (then the caller's namespace, `_`). */
function parseTriggerName(triggerName) {
  if (triggerName.charAt(0) === '/') {
    const parts = triggerName.split('/');
    return { namespace: parts[1] || '_', name: parts.slice(2).join('/') };
  }
  return { namespace: '_', name: triggerName };
}

function iso(ms) {
  return typeof ms === 'number' ? new Date(ms).toISOString() : undefined;
}

/** The package's READ answer: {config, status}. */
function describe(alarm) {
  const spec = alarm.spec || {};
  const config = { name: alarm.triggerName, namespace: alarm.triggerNamespace, payload: alarm.payload };
  if (spec.feed === 'once') {
    config.date = iso(spec.date);
    config.deleteAfterFire = spec.deleteAfterFire;
  } else {
    if (spec.startDate !== undefined) config.startDate = iso(spec.startDate);
    if (spec.stopDate !== undefined) config.stopDate = iso(spec.stopDate);
    if (spec.feed === 'interval') {
      config.minutes = spec.minutes;
    } else {
      config.cron = spec.cron;
      if (spec.timezone) config.timezone = spec.timezone;
      config.strict = spec.strict === true;
    }
  }
  const status = { active: alarm.status === 'active', dateChanged: alarm.updated, dateChangedISO: iso(alarm.updated) };
  if (alarm.lastFired !== undefined) status.lastFiredISO = iso(alarm.lastFired);
  if (alarm.nextFire !== undefined) status.nextFireISO = iso(alarm.nextFire);
  return { config: config, status: status };
}

async function call(method, url, authKey, body) {
  const response = await fetch(url, {
    method: method,
    headers: {
      Authorization: 'Basic ' + Buffer.from(String(authKey)).toString('base64'),
      Accept: 'application/json',
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { error: text };
  }
  return { ok: response.ok, status: response.status, body: json };
}

function main(params) {
  params = params || {};
  const actionName = process.env.__OW_ACTION_NAME || '';
  const feed = actionName.split('/').pop();
  const event = String(params.lifecycleEvent || '').toUpperCase();
  if (FEEDS.indexOf(feed) === -1) return Promise.resolve({ error: `cannot tell the alarm feed from the action name '${actionName}'` });
  if (!params.triggerName) return Promise.resolve({ error: 'no trigger name parameter was provided' });
  if (!params.authKey) return Promise.resolve({ error: 'no authKey parameter was provided' });

  const trigger = parseTriggerName(String(params.triggerName));
  const url = `${apiHost(params)}/api/v1/namespaces/${encodeURIComponent(trigger.namespace)}/alarms/${encodeURIComponent(trigger.name)}`;
  const feedParams = { feed: feed };
  for (const key of Object.keys(params)) if (RESERVED.indexOf(key) === -1) feedParams[key] = params[key];

  let request;
  switch (event) {
    case 'CREATE':
      request = call('PUT', url, params.authKey, feedParams);
      break;
    case 'UPDATE':
      request = call('PUT', url + '?overwrite=true', params.authKey, feedParams);
      break;
    case 'READ':
      request = call('GET', url, params.authKey);
      break;
    case 'DELETE':
      request = call('DELETE', url, params.authKey);
      break;
    case 'PAUSE':
      request = call('POST', url, params.authKey, { status: 'paused' });
      break;
    case 'UNPAUSE':
      request = call('POST', url, params.authKey, { status: 'active' });
      break;
    default:
      return Promise.resolve({ error: 'unsupported lifecycleEvent' });
  }
  return request.then(
    (response) => {
      if (!response.ok) {
        const message = response.body && typeof response.body.error === 'string' ? response.body.error : `the alarms provider answered ${response.status}`;
        return { error: message };
      }
      return event === 'READ' ? describe(response.body) : { status: 'success' };
    },
    (error) => ({ error: `the alarms provider could not be reached: ${error && error.message ? error.message : error}` }),
  );
}

exports.main = main;
