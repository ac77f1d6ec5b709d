// `npm run tenant -- dev-cert`: a local certificate authority and a certificate for localhost, 127.0.0.1 and ::1,
// so the server can run over https (Auth0 SDKs given only a `domain` speak https). Keys are made by node:crypto;
// node-forge only assembles and signs the X.509 structures, which node:crypto cannot build.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';

export type DevCertFiles = { caCert: string; caKey: string; cert: string; key: string };

export const devCertFiles = (dataDir: string): DevCertFiles => ({
  caCert: join(dataDir, 'dev-ca.pem'),
  caKey: join(dataDir, 'dev-ca-key.pem'),
  cert: join(dataDir, 'localhost.pem'),
  key: join(dataDir, 'localhost-key.pem'),
});

const DAY_MS = 24 * 3600 * 1000;

function newKeyPair(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey } {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const key = forge.pki.privateKeyFromPem(privateKey);
  return { privateKey: key, publicKey: forge.pki.setRsaPublicKey(key.n, key.e) };
}

function newCertificate(publicKey: forge.pki.PublicKey, days: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // A positive serial of 16 random bytes (RFC 5280 §4.1.2.2: unique per CA, at most 20 octets).
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - DAY_MS);
  cert.validity.notAfter = new Date(Date.now() + days * DAY_MS);
  return cert;
}

/** RFC 5280 §4.2.1.10: permitted subtrees localhost, 127.0.0.1/32 and ::1/128; nothing else validates. */
function localOnlyNameConstraints(): forge.asn1.Asn1 {
  const { asn1 } = forge;
  const subtree = (tag: number, value: string) =>
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.CONTEXT_SPECIFIC, tag, false, value),
    ]);
  const bytes = (...values: number[]) => String.fromCharCode(...values);
  const ipv4 = bytes(127, 0, 0, 1, 255, 255, 255, 255);
  const ipv6 = bytes(...new Array(15).fill(0), 1, ...new Array(16).fill(255));
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
      subtree(2, 'localhost'),
      subtree(7, ipv4),
      subtree(7, ipv6),
    ]),
  ]);
}

function writePrivate(file: string, pem: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, pem, { mode: 0o600 });
  renameSync(tmp, file);
}

/** The CA in DATA_DIR, made once: a browser or NODE_EXTRA_CA_CERTS that trusts it keeps working after a re-run. */
function loadOrCreateCa(files: DevCertFiles): {
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
  created: boolean;
} {
  if (existsSync(files.caCert) && existsSync(files.caKey)) {
    const cert = forge.pki.certificateFromPem(readFileSync(files.caCert, 'utf8'));
    // A CA made before it was limited to this machine's names is replaced, not trusted further.
    const limited = Boolean(cert.getExtension('nameConstraints'));
    if (limited && cert.validity.notAfter.getTime() > Date.now() + 30 * DAY_MS) {
      return { cert, key: forge.pki.privateKeyFromPem(readFileSync(files.caKey, 'utf8')), created: false };
    }
  }
  const { privateKey, publicKey } = newKeyPair();
  const cert = newCertificate(publicKey, 5 * 365);
  const name = [
    { name: 'commonName', value: 'calling-api local development CA' },
    { name: 'organizationName', value: 'calling-api (development only)' },
  ];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
    // Trusted by a browser, a CA could vouch for any site: this one may sign for this machine only.
    { id: '2.5.29.30', critical: true, value: localOnlyNameConstraints() },
  ]);
  cert.sign(privateKey, forge.md.sha256.create());
  writePrivate(files.caKey, forge.pki.privateKeyToPem(privateKey));
  writeFileSync(files.caCert, forge.pki.certificateToPem(cert));
  return { cert, key: privateKey, created: true };
}

/** Writes (or renews) the localhost certificate, signed by the local CA; returns the files and whether the CA is new. */
export function writeDevCertificate(dataDir: string): {
  files: DevCertFiles;
  newCa: boolean;
  notAfter: Date;
} {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const files = devCertFiles(dataDir);
  const ca = loadOrCreateCa(files);
  const { privateKey, publicKey } = newKeyPair();
  // 398 days: the longest validity browsers accept for a server certificate.
  const cert = newCertificate(publicKey, 398);
  cert.setSubject([{ name: 'commonName', value: 'localhost' }]);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: 'localhost' },
        { type: 7, ip: '127.0.0.1' },
        { type: 7, ip: '::1' },
      ],
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.cert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(ca.key, forge.md.sha256.create());
  writePrivate(files.key, forge.pki.privateKeyToPem(privateKey));
  // The chain a TLS server sends: its certificate, then the CA's.
  writeFileSync(files.cert, forge.pki.certificateToPem(cert) + forge.pki.certificateToPem(ca.cert));
  return { files, newCa: ca.created, notAfter: cert.validity.notAfter };
}
