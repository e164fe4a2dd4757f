"""eSpeak NG through its C library: audio plus the time of every phoneme and word.

The ``espeak-ng`` command writes audio (``-w``) or phonemes (``-x``, ``--ipa``)
but not when each phoneme starts. The library it is built on reports that:
initialised with phoneme events, it calls back with the samples and, for every
phoneme, its IPA name and the sample it starts at (and for every word, its
place in the text). Debian's ``espeak-ng`` package brings the library
(``libespeak-ng.so.1``), so nothing else is needed.

The library keeps global state: one :class:`Espeak` per process, made lazily
by :func:`espeak` (worker processes each make their own).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np

from seqlab.errors import ConfigError

INSTALL_HINT = "install it with: sudo apt-get install espeak-ng"

# speak_lib.h constants
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_INITIALIZE_PHONEME_IPA = 0x0002
_EVENT_LIST_TERMINATED, _EVENT_WORD, _EVENT_PHONEME = 0, 1, 7
_RATE, _PITCH, _RANGE = 1, 3, 4
_CHARS_UTF8 = 1


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):  # espeak_EVENT of speak_lib.h
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass(frozen=True)
class PhonemeEvent:
    """A phoneme (IPA; ``""`` is a pause) starting at ``sample``."""

    sample: int
    ipa: str


@dataclass(frozen=True)
class WordEvent:
    """A word starting at ``sample``: characters ``[start, start + length)`` of the text."""

    sample: int
    start: int
    length: int


@dataclass
class Speech:
    """One synthesised utterance: (N,) int16 samples at ``sample_rate`` and its events."""

    samples: np.ndarray
    sample_rate: int
    phonemes: list[PhonemeEvent]
    words: list[WordEvent]


def library_path() -> str | None:
    """The eSpeak NG shared library, or None when it is not installed."""
    return ctypes.util.find_library("espeak-ng")


def installed_variants() -> list[str]:
    """Names of the voice variants (``f3``, ``m1``, ``Annie``, ...) this installation has.

    Raises:
        ConfigError: when the ``espeak-ng`` command is missing.
    """
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise ConfigError(f"espeak-ng not found; {INSTALL_HINT}")
    out = subprocess.run([exe, "--voices=variant"], capture_output=True, text=True, check=True).stdout
    names = []
    for row in out.splitlines()[1:]:
        fields = row.split()
        files = [f for f in fields if f.startswith("!v/")]
        if files:
            names.append(files[0][len("!v/"):])
    return sorted(names)


class Espeak:
    """The eSpeak NG library, set up to report phoneme and word events.

    Raises:
        ConfigError: when the library is not installed or fails to start.
    """

    def __init__(self) -> None:
        path = library_path()
        if path is None:
            raise ConfigError(f"the eSpeak NG library (libespeak-ng) was not found; {INSTALL_HINT}")
        self.lib = ctypes.CDLL(path)
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
            ctypes.c_uint, ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p,
        ]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.sample_rate = self.lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, None, _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_PHONEME_IPA
        )
        if self.sample_rate <= 0:
            raise ConfigError(f"the eSpeak NG library failed to start (code {self.sample_rate}); {INSTALL_HINT}")
        self._chunks: list[np.ndarray] = []
        self._phonemes: list[PhonemeEvent] = []
        self._words: list[WordEvent] = []
        self._callback = _CALLBACK(self._on_synth)  # keep a reference: the library holds a raw pointer
        self.lib.espeak_SetSynthCallback(self._callback)

    def _on_synth(self, wav, n: int, events) -> int:
        if n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            e = events[i]
            if e.type == _EVENT_PHONEME:
                self._phonemes.append(PhonemeEvent(e.sample, e.id.string.decode("utf-8", errors="replace")))
            elif e.type == _EVENT_WORD:
                self._words.append(WordEvent(e.sample, e.text_position - 1, e.length))
            i += 1
        return 0  # go on

    def synthesize(self, text: str, voice: str, rate: int = 175, pitch: int = 50, pitch_range: int = 50) -> Speech:
        """Speak ``text`` with ``voice`` (``en-us+f3``: language + variant).

        Args:
            rate: words per minute (80..450).
            pitch, pitch_range: base pitch and its range, 0..100 (50 is the voice's own).
        """
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ConfigError(f"eSpeak NG has no voice {voice!r} (see: espeak-ng --voices=en)")
        for parameter, value in ((_RATE, rate), (_PITCH, pitch), (_RANGE, pitch_range)):
            self.lib.espeak_SetParameter(parameter, int(value), 0)
        self._chunks, self._phonemes, self._words = [], [], []
        data = text.encode("utf-8")
        status = self.lib.espeak_Synth(data, len(data) + 1, 0, 0, 0, _CHARS_UTF8, None, None)
        if status != 0:
            raise ConfigError(f"eSpeak NG failed (code {status}) on {text!r} with voice {voice!r}")
        samples = np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.int16)
        return Speech(samples, self.sample_rate, self._phonemes, self._words)


_instance: tuple[int, Espeak] | None = None


def espeak() -> Espeak:
    """This process' :class:`Espeak` (made on first use, again after a fork)."""
    global _instance
    if _instance is None or _instance[0] != os.getpid():
        _instance = (os.getpid(), Espeak())
    return _instance[1]
