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
import { connect as tcpConnect } from 'node:net'
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

// One client through the given first bytes: resolves when its CONNACK arrives (bounded).
function warmOnce (port, prefix, clientId) {
  const id = Buffer.from(clientId)
  const connectPacket = Buffer.concat([Buffer.from([0x10, 12 + id.length, 0, 4]), Buffer.from('MQTT'),
    Buffer.from([4, 2, 0, 60, 0, id.length]), id])
  return new Promise((resolve, reject) => {
    const c = tcpConnect(port, '127.0.0.1', () => c.write(Buffer.concat([prefix, connectPacket])))
    const timer = setTimeout(() => { c.destroy(); reject(new Error('warm-up: no CONNACK within 10 s')) }, 10000)
    c.once('data', (d) => { clearTimeout(timer); c.destroy(); d[0] === 0x20 ? resolve() : reject(new Error('warm-up: not a CONNACK')) })
    c.once('error', (e) => { clearTimeout(timer); reject(e) })
  })
}

const pp = await listen(mqttServer)
const adm = await listen(admin)
// Warm up before saying ready: the first connection would otherwise meet cold code (the
// decoder, the broker's CONNECT path compiled on first use), slow enough under load that a
// header the suite writes in two parts could reach that first read whole. Every case then
// meets the same warm Aedes, whatever ran before it. (Only complete headers here: a partial
// one may kill the process, which is what some cases find.)
const v2 = Buffer.concat([Buffer.from('0d0a0d0a000d0a515549540a', 'hex'), Buffer.from([0x21, 0x11, 0, 12]),
  Buffer.from([192, 0, 2, 1, 192, 0, 2, 2, 0x9c, 0x40, 0x07, 0x5b])])
for (let i = 0; i < 3; i++) {
  await warmOnce(pp.port, Buffer.from('PROXY TCP4 192.0.2.1 192.0.2.2 40000 1883\r\n'), `ppc-warmup-v1-${i}`)
  await warmOnce(pp.port, v2, `ppc-warmup-v2-${i}`)
  await warmOnce(pp.port, Buffer.alloc(0), `ppc-warmup-plain-${i}`)
}
sessions.clear()
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
