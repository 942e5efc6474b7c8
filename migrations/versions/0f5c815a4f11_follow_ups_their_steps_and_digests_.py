"""follow-ups, their steps and digests; account touches

Revision ID: 0f5c815a4f11
Revises: 18c107600de3
Create Date: 2026-12-01 08:19:23.573708

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0f5c815a4f11'
down_revision = '18c107600de3'
branch_labels = None
depends_on = None


def upgrade():
    # Answers stored before this revision open no follow-up: months-old detractors would
    # land on the managers as overdue all at once. Follow-ups start with the next answer.
    op.create_table('account_touches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint('length(note) <= 2000', name=op.f('ck_account_touches_note_length')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_touches_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_touches_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_touches'))
    )
    with op.batch_alter_table('account_touches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_touches_account_id'), ['account_id'], unique=False)

    op.create_table('follow_up_digests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('follow_ups', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_follow_up_digests_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_digests')),
    sa.UniqueConstraint('user_id', 'week', name=op.f('uq_follow_up_digests_user_id_week'))
    )
    op.create_table('follow_ups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('score', sa.SmallInteger(), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('contacted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(state = 'open') = (contacted_at IS NULL)", name=op.f('ck_follow_ups_contacted_unless_open')),
    sa.CheckConstraint("(state = 'resolved') = (resolved_at IS NOT NULL)", name=op.f('ck_follow_ups_resolved_at_when_resolved')),
    sa.CheckConstraint("kind IN ('nps', 'exit')", name=op.f('ck_follow_ups_kind')),
    sa.CheckConstraint("state IN ('open', 'contacted', 'resolved')", name=op.f('ck_follow_ups_state')),
    sa.CheckConstraint('due_at >= opened_at', name=op.f('ck_follow_ups_due_after_opening')),
    sa.CheckConstraint('score BETWEEN 0 AND 10', name=op.f('ck_follow_ups_score_range')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_follow_ups_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_follow_ups_assignee_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_follow_ups_response_id_responses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_ups')),
    sa.UniqueConstraint('response_id', name=op.f('uq_follow_ups_response_id'))
    )
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_ups_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_ups_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index('ix_follow_ups_state_due_at', ['state', 'due_at'], unique=False)

    op.create_table('follow_up_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('follow_up_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=10), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("step IN ('contacted', 'resolved')", name=op.f('ck_follow_up_steps_step')),
    sa.CheckConstraint('length(note) <= 2000', name=op.f('ck_follow_up_steps_note_length')),
    sa.ForeignKeyConstraint(['follow_up_id'], ['follow_ups.id'], name=op.f('fk_follow_up_steps_follow_up_id_follow_ups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_follow_up_steps_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_steps'))
    )
    with op.batch_alter_table('follow_up_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_steps_follow_up_id'), ['follow_up_id'], unique=False)



def downgrade():
    with op.batch_alter_table('follow_up_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_up_steps_follow_up_id'))

    op.drop_table('follow_up_steps')
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_ups_state_due_at')
        batch_op.drop_index(batch_op.f('ix_follow_ups_assignee_id'))
        batch_op.drop_index(batch_op.f('ix_follow_ups_account_id'))

    op.drop_table('follow_ups')
    op.drop_table('follow_up_digests')
    with op.batch_alter_table('account_touches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_touches_account_id'))

    op.drop_table('account_touches')
