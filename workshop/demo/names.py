"""What the demo is made of: the organisations, the stages and agenda of the Tapanuli Utara
programme, the names people are given (all made up), the questions they ask."""

from __future__ import annotations

from datetime import time

TIMEZONE = "Asia/Jakarta"
HALL_CAPACITY = 40
DEMO_QUESTIONS = [
    "Bagaimana desa dengan sinyal lemah bisa ikut program smart city?",
    "Apakah ada anggaran dari kabupaten untuk operator data desa?",
    "Kapan masterplan ini mulai berlaku untuk kecamatan?",
    "Siapa yang akan melatih perangkat desa mengelola aplikasi?",
    "Bagaimana keamanan data penduduk di aplikasi ini?",
    "Apakah aplikasi SIPD bisa dihubungkan dengan dashboard smart city?",
]

AGENCIES = [
    "Sekretariat Daerah",
    "Inspektorat",
    "Dinas Komunikasi dan Informatika",
    "Bappelitbangda",
    "Dinas PUPR",
    "Dinas Perumahan dan Kawasan Permukiman",
    "Dinas Kesehatan",
    "Dinas Sosial",
    "Dinas Pertanian",
    "Dinas Pariwisata",
    "Dinas Perhubungan",
    "Dinas Lingkungan Hidup",
    "Satpol PP",
    "BPBD",
    "Badan Pendapatan Daerah",
    "Badan Keuangan dan Aset Daerah",
    "Dinas Pendidikan",
    "Dinas Kependudukan dan Pencatatan Sipil",
    "Dinas Penanaman Modal dan PTSP",
    "Dinas Koperasi, UKM, Perindustrian dan Perdagangan",
    "Dinas Ketahanan Pangan",
    "Dinas Perikanan",
    "Badan Kepegawaian dan Pengembangan SDM",
]
COMPANIES = ["Perumda Air Minum Mual Na Tio", "PD Pasar Tapanuli Utara"]
MINISTRY = "Direktorat Jenderal Aplikasi Informatika, Kementerian Kominfo"

STAGES = [
    ("Penyusunan Analisis Strategis dan Quick Win", 0),
    ("Penyusunan Masterplan Smart Governance dan Smart Branding", 21),
    ("Penyusunan Masterplan Smart Economy, Smart Living dan Smart Society", 42),
    ("Penyusunan Masterplan Smart Environment dan Finalisasi", 63),
]
AGENDA = [
    (time(8, 30), "Registrasi peserta", ""),
    (time(9, 0), "Pembukaan oleh Bupati Tapanuli Utara", ""),
    (time(9, 30), "Paparan Gerakan Menuju Smart City", "Tenaga Ahli Kementerian"),
    (time(13, 0), "Diskusi kelompok per dimensi Smart City", "Narasumber"),
    (time(15, 30), "Presentasi hasil dan rencana tindak lanjut", ""),
]

GIVEN_NAMES = [
    "Andreas",
    "Bonar",
    "Daniel",
    "Elisabeth",
    "Fernando",
    "Gabriel",
    "Hotman",
    "Imelda",
    "Jhonson",
    "Kristina",
    "Lamhot",
    "Maruli",
    "Nelson",
    "Orlando",
    "Parulian",
    "Rosmawati",
    "Samuel",
    "Tiurma",
    "Ulysses",
    "Veronika",
    "Wilson",
    "Yohana",
    "Agustina",
    "Benny",
    "Citra",
    "Darwin",
    "Erwin",
    "Friska",
    "Hendrik",
    "Juniar",
    "Lestari",
    "Marlina",
    "Nurhayati",
    "Pangihutan",
    "Rudolf",
    "Sondang",
]
FAMILY_NAMES = [
    "Hutabarat",
    "Simanjuntak",
    "Sihombing",
    "Situmorang",
    "Lumbantobing",
    "Nababan",
    "Siregar",
    "Panggabean",
    "Pardede",
    "Simatupang",
    "Hutagalung",
    "Sitompul",
    "Aritonang",
    "Manalu",
    "Silitonga",
    "Sianturi",
    "Tambunan",
    "Pakpahan",
    "Simamora",
    "Hutauruk",
]
AGENCY_POSITIONS = ["Kepala Dinas", "Sekretaris", "Kepala Bidang", "Kepala Sub Bagian Program"]
