"""The built-in table of common Vietnamese abbreviations, in the synonym file format.

Each line makes its forms equivalent in queries (see :mod:`vnsearch.query.synonyms`):
a query word or run of words that reads as one form is also searched as the others.
Only abbreviations that mean one thing in news text are here (how each is written was
read from the VNTC news corpus): ``CĐ`` (``cao đẳng``, but ``CĐV`` is ``cổ động viên``),
``DN`` (``doanh nghiệp``, or ``ĐN`` Đà Nẵng typed without accents), ``TƯ`` (folded and
lowercased it is the word ``tư``), ``Q.`` (quận, quyển) and ``Sài Gòn`` (also the river,
the old city, a district) are left out on purpose.

See it with ``python -c "import vnsearch; print(vnsearch.ABBREVIATIONS)"``.
"""

from __future__ import annotations

__all__ = ["ABBREVIATIONS_TEXT"]

ABBREVIATIONS_TEXT = """\
# places
TP.HCM, TPHCM, TP HCM, HCM, TP Hồ Chí Minh => thành phố Hồ Chí Minh
HN => Hà Nội
VN => Việt Nam
ĐBSCL => đồng bằng sông Cửu Long
# the state and the Party
UBND => ủy ban nhân dân
HĐND => hội đồng nhân dân
MTTQ => mặt trận tổ quốc
BCH TW, BCHTW => ban chấp hành trung ương
TW => trung ương
QĐ => quyết định
NĐ => nghị định
NĐ-CP => nghị định chính phủ
TAND => tòa án nhân dân
VKSND => viện kiểm sát nhân dân
CSGT => cảnh sát giao thông
XHCN => xã hội chủ nghĩa
# education
THPT => trung học phổ thông
THCS => trung học cơ sở
ĐH => đại học
ĐHQG => đại học quốc gia
GD&ĐT, GD-ĐT, GDĐT => giáo dục và đào tạo
SGK => sách giáo khoa
# society, economy, science
BHXH => bảo hiểm xã hội
BHYT => bảo hiểm y tế
CNTT => công nghệ thông tin
KHCN, KH&CN => khoa học và công nghệ
HTX => hợp tác xã
KCN => khu công nghiệp
ATGT => an toàn giao thông
TNGT => tai nạn giao thông
NXB => nhà xuất bản
# sport
HLV => huấn luyện viên
CĐV => cổ động viên
"""
