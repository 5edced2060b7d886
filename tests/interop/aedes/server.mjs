// Aedes (npm, pinned in package.json) as a PROXY-aware MQTT broker for ppconform's interop
// runs: aedes-server-factory with trustProxy, which hands the first read of each connection
// to aedes-protocol-decoder. A tiny HTTP endpoint answers GET /api/v1/sessions in the shape
// of ppbroker's admin API (client_id, attributed_peer, real_peer, username), so the suite can
// see which address Aedes attributed a session to.
//
// Usage: node server.mjs READY_FILE
// Listens on 127.0.0.1 ports chosen by the kernel and writes READY_FILE (JSON: pp, admin)
// once both listen. Stops on SIGTERM/SIGINT.
import { writeFileSync, renameSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import createBroker from 'aedes'
import factory from 'aedes-server-factory'

const readyFile = process.argv[2]
if (!readyFile) {
  console.error('usage: node server.mjs READY_FILE')
  process.exit(2)
}

const MAX_SESSIONS = 10000 // oldest forgotten first: memory stays bounded
const sessions = new Map()

function hostPort (ip, port) {
  if (ip === undefined || ip === null) return null
  const s = String(ip)
  return s.includes(':') ? `[${s}]:${port}` : `${s}:${port}`
}

const broker = createBroker({
  // remember the CONNECT username per client; accept everyone (anonymous broker)
  authenticate: (client, username, password, done) => {
    client.ppUsername = username === undefined ? null : String(username)
    done(null, true)
  }
})

broker.on('client', (client) => {
  const d = client.connDetails || {}
  const sock = client.conn && (client.conn.socket || client.conn)
  sessions.delete(client.id)
  sessions.set(client.id, {
    client_id: client.id,
    attributed_peer: hostPort(d.ipAddress, d.port),
    real_peer: sock ? hostPort(sock.remoteAddress, sock.remotePort) : null,
    username: client.ppUsername ?? null,
    proxy_version: d.isProxy || 0,
    connected: true
  })
  while (sessions.size > MAX_SESSIONS) sessions.delete(sessions.keys().next().value)
})
broker.on('clientDisconnect', (client) => {
  const s = sessions.get(client.id)
  if (s) s.connected = false
})
broker.on('error', (err) => console.error('aedes error:', err && err.message))

const mqttServer = factory.createServer(broker, { trustProxy: true })
// a plain body with its length (no chunked encoding: the runner's HTTP reader is minimal)
function reply (res, status, type, text) {
  const body = Buffer.from(text)
  res.writeHead(status, { 'content-type': type, 'content-length': body.length, connection: 'close' })
  res.end(body)
}

const admin = createHttpServer((req, res) => {
  if (req.method === 'GET' && req.url === '/api/v1/sessions') {
    reply(res, 200, 'application/json', JSON.stringify({ sessions: [...sessions.values()] }))
  } else {
    reply(res, 404, 'text/plain', 'not found\n')
  }
})

function listen (server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server.address()))
  })
}

const pp = await listen(mqttServer)
const adm = await listen(admin)
const ready = { pid: process.pid, pp: `127.0.0.1:${pp.port}`, admin: `127.0.0.1:${adm.port}`, aedes: broker.version }
writeFileSync(readyFile + '.tmp', JSON.stringify(ready))
renameSync(readyFile + '.tmp', readyFile) // whole file or none
console.log('ready', JSON.stringify(ready))

function stop () {
  mqttServer.close()
  admin.close()
  broker.close(() => process.exit(0))
  setTimeout(() => process.exit(0), 2000).unref()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
