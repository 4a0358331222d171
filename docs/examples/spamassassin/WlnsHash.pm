# WlnsHash: an optional SpamAssassin plugin for wlns.cf. It sets the tag
# WLNSHASH to wlns's hashed form of the envelope sender (the unpadded
# lower-case base32 of the SHA-256 of the lower-cased address, as Spamhaus
# HBL and SpamAssassin's HashBL compute it), so that the WLNS_SENDER rule
# can ask <hash>.<domain>.<reversed relay IP>.sender.<apex> and check every
# sender, whatever its local part, without putting the address on the wire.
#
#   loadplugin WlnsHash /etc/spamassassin/WlnsHash.pm
#
# in a .pre file (before wlns.cf is read). docs/mta.md explains it;
# systest/mta_spamassassin_test.go runs it.
package WlnsHash;

use strict;
use warnings;
use Digest::SHA qw(sha256);
use Mail::SpamAssassin::Plugin;
use Mail::SpamAssassin::Util qw(base32_encode);

our @ISA = qw(Mail::SpamAssassin::Plugin);

sub new {
  my ($class, $mailsa) = @_;
  my $self = $class->SUPER::new($mailsa);
  bless($self, $class);
  return $self;
}

# parsed_metadata runs once the message's metadata (envelope sender,
# relays) is known; AskDNS rules waiting for the tag then send their query.
sub parsed_metadata {
  my ($self, $opts) = @_;
  my $pms = $opts->{permsgstatus};
  my ($addr) = $pms->get('EnvelopeFrom:first:addr');
  return 1 if !defined $addr || index($addr, '@') < 1;
  $addr = lc $addr;
  utf8::encode($addr) if utf8::is_utf8($addr);
  $pms->set_tag('WLNSHASH', lc base32_encode(sha256($addr)));
  return 1;
}

1;
