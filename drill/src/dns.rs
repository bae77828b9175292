//! The stand-in's DNS server: UDP on a loopback address, built on `hickory-server`.
//!
//! `<dnsName>.trafficmanager.net` gets a CNAME to the endpoint priority routing picks plus
//! that name's address record, both with the catalogue's TTL; each endpoint's own name
//! answers its address; every other name under `trafficmanager.net` is NXDOMAIN, anything
//! else REFUSED (the server is authoritative for these names only).

use crate::standin::Handle;
use hickory_proto::op::{Header, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_server::ServerFuture;
use hickory_server::authority::MessageResponseBuilder;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use tokio::net::UdpSocket;

/// The profile's DNS name: `<dnsName>.trafficmanager.net`.
pub fn profile_fqdn(dns_name: &str) -> String {
    format!("{dns_name}.trafficmanager.net")
}

struct Zone {
    tm: Handle,
    profile: Name,
    suffix: Name,
    ttl: u32,
}

/// A running DNS server; dropping it stops the server.
#[derive(Debug)]
pub struct DnsServer {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DnsServer {
    /// Serves on `bind` (port 0 picks one; see [`DnsServer::addr`]).
    pub async fn start(
        tm: Handle,
        dns_name: &str,
        ttl: u32,
        bind: SocketAddr,
    ) -> std::io::Result<Self> {
        let bad = |e: hickory_proto::ProtoError| std::io::Error::other(e.to_string());
        let zone = Zone {
            tm,
            profile: Name::from_str(&format!("{}.", profile_fqdn(dns_name))).map_err(bad)?,
            suffix: Name::from_str("trafficmanager.net.").map_err(bad)?,
            ttl,
        };
        let socket = UdpSocket::bind(bind).await?;
        let addr = socket.local_addr()?;
        let mut server = ServerFuture::new(zone);
        server.register_socket(socket);
        let task = tokio::spawn(async move {
            let _ = server.block_until_done().await;
        });
        Ok(Self { addr, task })
    }
}

fn address_record(name: Name, ttl: u32, ip: IpAddr) -> Record {
    match ip {
        IpAddr::V4(v4) => Record::from_rdata(name, ttl, RData::A(A(v4))),
        IpAddr::V6(v6) => Record::from_rdata(name, ttl, RData::AAAA(AAAA(v6))),
    }
}

fn wants(qtype: RecordType, ip: IpAddr) -> bool {
    matches!(
        (qtype, ip),
        (RecordType::A, IpAddr::V4(_)) | (RecordType::AAAA, IpAddr::V6(_)) | (RecordType::ANY, _)
    )
}

impl Zone {
    /// The records for one question, or the response code when there are none.
    fn resolve(&self, qname: &Name, qtype: RecordType) -> Result<Vec<Record>, ResponseCode> {
        if qname.eq_case(&self.profile) || qname == &self.profile {
            let Some(ep) = self.tm.answer() else {
                // Every endpoint disabled: the profile answers nothing.
                return Err(ResponseCode::NXDomain);
            };
            let target =
                Name::from_str(&format!("{}.", ep.target)).map_err(|_| ResponseCode::ServFail)?;
            let mut records = vec![Record::from_rdata(
                qname.clone(),
                self.ttl,
                RData::CNAME(CNAME(target.clone())),
            )];
            if wants(qtype, ep.address) {
                records.push(address_record(target, self.ttl, ep.address));
            }
            return Ok(records);
        }
        for ep in self.tm.endpoints() {
            let Ok(target) = Name::from_str(&format!("{}.", ep.target)) else {
                continue;
            };
            if &target == qname {
                // A region's public name always resolves, in or out of rotation.
                return Ok(if wants(qtype, ep.address) {
                    vec![address_record(qname.clone(), self.ttl, ep.address)]
                } else {
                    vec![]
                });
            }
        }
        if self.suffix.zone_of(qname) {
            Err(ResponseCode::NXDomain)
        } else {
            Err(ResponseCode::Refused)
        }
    }
}

#[async_trait::async_trait]
impl RequestHandler for Zone {
    async fn handle_request<R: ResponseHandler>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        let builder = MessageResponseBuilder::from_message_request(request);
        let mut header = Header::response_from_request(request.header());
        if request.message_type() != MessageType::Query || request.op_code() != OpCode::Query {
            let msg = builder.error_msg(request.header(), ResponseCode::NotImp);
            return send(&mut response_handle, msg, request.header()).await;
        }
        let Ok(info) = request.request_info() else {
            let msg = builder.error_msg(request.header(), ResponseCode::FormErr);
            return send(&mut response_handle, msg, request.header()).await;
        };
        let qname: Name = info.query.name().into();
        header.set_authoritative(true);
        match self.resolve(&qname, info.query.query_type()) {
            Ok(records) => {
                let msg = builder.build(header, records.iter(), [], [], []);
                send(&mut response_handle, msg, &header).await
            }
            Err(code) => {
                header.set_response_code(code);
                let msg = builder.build_no_records(header);
                send(&mut response_handle, msg, &header).await
            }
        }
    }
}

async fn send<'a, R: ResponseHandler>(
    handle: &mut R,
    msg: hickory_server::authority::MessageResponse<
        '_,
        'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
    >,
    header: &Header,
) -> ResponseInfo {
    match handle.send_response(msg).await {
        Ok(info) => info,
        Err(_) => {
            let mut h = *header;
            h.set_response_code(ResponseCode::ServFail);
            h.into()
        }
    }
}
