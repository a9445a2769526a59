//! kith-web
