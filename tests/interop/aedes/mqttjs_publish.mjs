// MQTT.js (npm mqtt, pinned in package.json) as a real client for the interop tests:
// connect from --source, publish one QoS 1 message, wait for PUBACK, disconnect.
// Exit 0 on PUBACK, 1 on any error or after 10 s.
// Usage: node mqttjs_publish.mjs --port N --client-id ID --source IP
//        [--ca F --cert F --key F --servername NAME --alpn PROTO]   (TLS)
import { readFileSync } from 'node:fs'
import net from 'node:net'
import mqtt from 'mqtt'

const args = {}
for (let i = 2; i + 1 < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1]

const tls = Boolean(args.ca)
const opts = {
  host: '127.0.0.1',
  port: Number(args.port),
  protocol: tls ? 'mqtts' : 'mqtt',
  clientId: args['client-id'],
  protocolVersion: 4,
  reconnectPeriod: 0,
  connectTimeout: 8000,
  localAddress: args.source
}
if (tls) {
  Object.assign(opts, {
    ca: readFileSync(args.ca),
    cert: readFileSync(args.cert),
    key: readFileSync(args.key),
    servername: args.servername || 'localhost',
    rejectUnauthorized: true
  })
  if (args.alpn) opts.ALPNProtocols = [args.alpn]
}

const timer = setTimeout(() => { console.error('mqttjs_publish: no PUBACK within 10 s'); process.exit(1) }, 10000)
// plain TCP: MQTT.js's own TCP builder ignores localAddress, so hand it our socket
const client = tls
  ? mqtt.connect(opts)
  : new mqtt.MqttClient(() => net.createConnection({ host: opts.host, port: opts.port, localAddress: opts.localAddress }), opts)
client.on('error', (err) => { console.error('mqttjs_publish:', err.message); process.exit(1) })
client.on('connect', () => {
  client.publish('interop/mqttjs', 'hi', { qos: 1 }, (err) => {
    if (err) { console.error('mqttjs_publish:', err.message); process.exit(1) }
    client.end(false, () => { clearTimeout(timer); process.exit(0) })
  })
})
