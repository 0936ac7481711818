"""E-sertifikat: who earned a certificate (a rule per programme, on the attendance records), the
numbered certificates, their PDF and ZIP, and the public verification page /verifikasi/<code>."""
