package nodenet

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// TLS alerts that mean the peer refused our certificate.
const (
	alertBadCertificate      tls.AlertError = 42
	alertUnknownCA           tls.AlertError = 48
	alertCertificateRequired tls.AlertError = 116
)

// IsAuthError reports whether err means the two nodes do not trust each
// other's certificates (another CA, a certificate not naming the dialed
// address). Retrying does not help.
func IsAuthError(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var alert tls.AlertError
	switch {
	case errors.As(err, &cv), errors.As(err, &ua), errors.As(err, &hn):
		return true
	case errors.As(err, &alert):
		return alert == alertBadCertificate || alert == alertUnknownCA || alert == alertCertificateRequired
	}
	return false
}
