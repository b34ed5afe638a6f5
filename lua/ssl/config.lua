-- LuaSec's ssl.config, so that nothing loads Debian's ssl.so: moonsock's
-- table of what its OpenSSL offers.
return require("ssl").config
