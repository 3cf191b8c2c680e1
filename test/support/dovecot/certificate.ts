/** The self-signed certificate every instance serves TLS with: the one the fake servers use too. */
export { generateTestCertificate as selfSignedCertificate, type TestCertificate as Certificate } from '../fake-certificate.ts';
