import type { FastifyInstance } from 'fastify'

/**
 * A deliberately small page until the React console lands: sign in, see who you are and
 * which tenants you can reach, sign out. It uses only the public API.
 */
const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>TenantAtlas</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; }
  h1 { font-size: 1.4rem; } label { display: block; margin: .6rem 0 .2rem; }
  input { width: 100%; padding: .45rem; font: inherit; box-sizing: border-box; }
  button { margin-top: 1rem; padding: .45rem 1rem; font: inherit; cursor: pointer; }
  .error { color: #c92a2a; } .muted { opacity: .7; } [hidden] { display: none !important; }
  table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #8884; }
</style>
</head>
<body>
<h1>TenantAtlas</h1>
<form id="sign-in" hidden>
  <label for="email">E-mail</label><input id="email" name="email" type="email" autocomplete="username" required>
  <label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
  <p id="sign-in-error" class="error" role="alert"></p>
  <button type="submit">Sign in</button>
</form>
<section id="signed-in" hidden>
  <p>Signed in as <strong id="user-name"></strong> <span id="user-email" class="muted"></span></p>
  <h2>Tenants</h2>
  <p id="no-tenants" class="muted" hidden>You are not a member of any tenant yet.</p>
  <table id="tenants"><thead><tr><th>Tenant</th><th>Role</th></tr></thead><tbody></tbody></table>
  <button id="sign-out" type="button">Sign out</button>
  <p class="muted">API: <a href="/api/docs">/api/docs</a></p>
</section>
<script type="module">
const $ = (id) => document.getElementById(id)
async function show() {
  const res = await fetch('/api/me', { credentials: 'same-origin' })
  if (res.status === 401) { $('sign-in').hidden = false; $('signed-in').hidden = true; if (location.pathname !== '/login') history.replaceState(null, '', '/login'); return }
  const me = await res.json()
  $('user-name').textContent = me.user.name
  $('user-email').textContent = '(' + me.user.email + ')'
  const body = $('tenants').tBodies[0]
  body.replaceChildren(...me.tenants.map((t) => { const tr = document.createElement('tr'); for (const v of [t.name, t.role]) { const td = document.createElement('td'); td.textContent = v; tr.append(td) } return tr }))
  $('no-tenants').hidden = me.tenants.length > 0
  $('tenants').hidden = me.tenants.length === 0
  $('sign-in').hidden = true; $('signed-in').hidden = false
  if (location.pathname === '/login') history.replaceState(null, '', '/')
}
$('sign-in').addEventListener('submit', async (e) => {
  e.preventDefault()
  $('sign-in-error').textContent = ''
  const res = await fetch('/api/auth/sign-in', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: $('email').value, password: $('password').value }) })
  if (!res.ok) { const body = await res.json().catch(() => null); $('sign-in-error').textContent = body?.error?.message ?? 'Sign-in failed'; return }
  $('password').value = ''
  await show()
})
$('sign-out').addEventListener('click', async () => { await fetch('/api/auth/sign-out', { method: 'POST' }); await show() })
show()
</script>
</body>
</html>`

export function registerHomePage(app: FastifyInstance) {
  const send = (_request: unknown, reply: { type(t: string): { send(b: string): unknown } }) => reply.type('text/html; charset=utf-8').send(page)
  app.get('/', { schema: { hide: true } }, send)
  app.get('/login', { schema: { hide: true } }, send)
}
