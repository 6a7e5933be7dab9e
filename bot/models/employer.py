"""Employers' future skill needs, kept for planning short trainings — without personal data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UTCDateTime


class SkillNeed(Base):
    """One employer's answer to "which skills will you need?", masked and cut loose from the person:
    no ticket, company or contact, the municipality and size only as bands, the day only."""

    __tablename__ = "skill_need"
    __table_args__ = (Index("ix_skill_need_created", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # "assignment" | "change_notice"
    # the job's municipality in the capital region (espoo, helsinki, vantaa, kauniainen), "other" or "unknown"
    area: Mapped[str] = mapped_column(String(16))
    # the company's staff as a band ("1-19", "20-29", "30-99", "100+"), or "unknown" (an assignment does not say)
    size_band: Mapped[str] = mapped_column(String(8))
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)  # masked: nlu.pii plus the submitter's own names
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())  # midnight UTC of the day
