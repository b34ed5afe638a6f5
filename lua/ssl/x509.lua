-- LuaSec's ssl.x509, so that nothing loads Debian's ssl.so: load(pem) is
-- moonsock's ssl.loadcertificate.
return {load = require("ssl").loadcertificate}
